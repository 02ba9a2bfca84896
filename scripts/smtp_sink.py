"""A local SMTP server for the test suite: every message it receives is
written as an .eml file into a directory.

Usage: python smtp_sink.py PORT DIR  (runs until killed)
"""
import os
import sys
import time
import uuid

from aiosmtpd.controller import Controller


class ToDirectory:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.directory, f"{time.time():.6f}-{uuid.uuid4().hex}.eml")
        tmp = name + ".part"
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        # Renamed when complete, so that a reader never sees half a message.
        os.rename(tmp, name)
        return "250 Message accepted for delivery"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(ToDirectory(directory), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
