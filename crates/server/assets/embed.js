/* Locadocs widget loader. On any page:
   <script src="https://LOCADOCS/embed.js" data-guide="immobilier" async></script>
   inserts the guide right after the script tag, in an iframe whose height
   follows its content. Events on the widget's container (they bubble):
   locadocs:ready, locadocs:step, locadocs:result, locadocs:resize.
   See /integrer. */
(function (w, d) {
  "use strict";
  var s = d.currentScript;
  if (!s || !s.parentNode || !w.URL || !w.postMessage) return;
  var origin = new URL(s.src, location.href).origin;
  var guide = s.getAttribute("data-guide") || "";
  if (!/^[a-z0-9-]{1,80}$/.test(guide)) {
    if (w.console) console.warn("Locadocs : attribut data-guide manquant ou invalide");
    return;
  }
  var q = new URLSearchParams({ embed: "1" });
  [["commune", "commune"], ["document-type", "document_type"], ["lang", "lang"],
    ["theme", "theme"], ["color", "color"], ["font", "font"], ["site", "site"]
  ].forEach(function (p) {
    var v = s.getAttribute("data-" + p[0]);
    if (v) q.set(p[1], v);
  });
  // The host's commune stays through « Recommencer » and « Modifier ».
  if (q.get("commune")) q.set("host_commune", q.get("commune"));
  var en = q.get("lang") === "en";
  var box = d.createElement("div");
  box.className = "locadocs-widget";
  var f = d.createElement("iframe");
  f.title = en ? "Locadocs guide: find a public document" : "Guide Locadocs : trouver un document public";
  f.src = origin + "/g/" + guide + "?" + q;
  f.referrerPolicy = "no-referrer";
  f.setAttribute("scrolling", "no");
  var st = f.style;
  st.border = "0"; st.width = "100%"; st.display = "block"; st.overflow = "hidden"; st.height = "360px";
  box.appendChild(f);
  s.parentNode.insertBefore(box, s.nextSibling);
  // Fallback link placed by the snippet right after the script: replaced.
  var next = box.nextElementSibling;
  if (next && next.hasAttribute("data-locadocs-fallback")) next.parentNode.removeChild(next);

  function fire(name, detail) {
    detail.guide = guide;
    box.dispatchEvent(new CustomEvent("locadocs:" + name, { bubbles: true, detail: detail }));
  }
  function str(v) { return typeof v === "string" && v.length < 300; }

  // The frame speaks only after this greeting, and only to this page.
  f.addEventListener("load", function () {
    f.contentWindow.postMessage({ ld: 1, type: "hello" }, origin);
  });

  var ready = false;
  w.addEventListener("message", function (e) {
    var m = e.data;
    if (e.origin !== origin || e.source !== f.contentWindow || !m || typeof m !== "object" || m.ld !== 1) return;
    var h = m.height;
    if (typeof h !== "number" || !(h > 0 && h < 100000)) return;
    if (m.type === "step") {
      if (!str(m.step) || !str(m.title)) return;
      var r = m.result;
      if (r && !(Array.isArray(r.documentTypes) && Array.isArray(r.holders) && r.documentTypes.every(str) && r.holders.every(str))) return;
      resize(h);
      f.title = m.title;
      if (!ready) { ready = true; fire("ready", { step: m.step }); }
      else {
        var top = box.getBoundingClientRect().top;
        if (top < 0 || top > w.innerHeight) box.scrollIntoView();
      }
      fire("step", { step: m.step });
      if (r) fire("result", { documentType: r.documentTypes[0] || null, documentTypes: r.documentTypes, holders: r.holders, commune: str(r.commune) ? r.commune : null });
    } else if (m.type === "resize") resize(h);
  });

  function resize(h) {
    h = Math.ceil(h);
    if (f.offsetHeight === h) return;
    st.height = h + "px";
    fire("resize", { height: h });
  }
})(window, document);
