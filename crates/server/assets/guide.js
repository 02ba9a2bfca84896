// Locadocs guide enhancements. Without this script every step is a plain
// GET form; with it, steps change in place, focus moves to the new step's
// heading, the change is announced, and the commune field becomes an
// ARIA 1.2 combobox fed by /api/v1/communes.
(function () {
  "use strict";
  var live = document.getElementById("ld-live");
  var main = document.querySelector("main");
  if (!main || !window.fetch || !window.DOMParser) return;
  // Inside the widget (embed.js on a host page): the host scrolls, and
  // links that leave the guide open in a new tab.
  var embed = document.documentElement.classList.contains("embed") && window.parent !== window;

  function announce(text) {
    if (!live) return;
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  }

  function swap(html, url, push) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var next = doc.querySelector("main");
    if (!next) { location.href = url; return; }
    main.innerHTML = next.innerHTML;
    document.title = doc.title;
    if (push) history.pushState({ ld: 1 }, "", url);
    var h = main.querySelector("h1, legend, h2");
    var target = main.querySelector("h1") || h;
    var error = main.querySelector("#erreur");
    var found = url.indexOf("#resultats") > 0 && main.querySelector("#resultats");
    if (found) {
      // A search: focus goes to what it found, which is read.
      found.focus({ preventScroll: embed });
      announce(found.textContent.trim());
    } else if (error) {
      // A refused answer: focus goes to the field, and the message is read.
      var field = main.querySelector("[aria-invalid=true]") ||
        main.querySelector("fieldset input:not([type=hidden])");
      (field || target).focus({ preventScroll: embed });
      announce(error.textContent.trim());
    } else if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: embed });
      announce(target.textContent.trim());
    }
    enhance();
    tell();
    window.dispatchEvent(new CustomEvent("locadocs:page", { detail: { url: url } }));
  }

  function load(url, push) {
    main.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "text/html" }, credentials: "omit" })
      .then(function (r) { return r.text().then(function (t) { return [r, t]; }); })
      .then(function (rt) {
        // The address reached, with the fragment asked for (#resultats):
        // a response's URL never has one.
        var reached = rt[0].url || url, hash = new URL(url).hash;
        if (hash && reached.indexOf("#") < 0) reached += hash;
        swap(rt[1], reached, push);
      })
      .catch(function () { location.href = url; })
      .then(function () { main.removeAttribute("aria-busy"); });
  }

  function sameGuide(url) {
    return url.origin === location.origin && url.pathname.indexOf("/g/") === 0;
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if ((form.method || "get").toLowerCase() !== "get") return;
    var url = new URL(form.action, location.href);
    if (!sameGuide(url)) return;
    e.preventDefault();
    var data = new FormData(form);
    if (e.submitter && e.submitter.name) data.append(e.submitter.name, e.submitter.value);
    // The empty field a step sends (so that an empty « Continuer » is told
    // apart) is dropped when an answer of the same name was given.
    var pairs = Array.from(data.entries()).filter(function (p) {
      return p[1] !== "" || !Array.from(data.entries()).some(function (q) { return q[0] === p[0] && q[1] !== ""; });
    });
    url.search = new URLSearchParams(pairs).toString();
    load(url.href, true);
  });

  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href]");
    if (!a || a.target || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    var url = new URL(a.href, location.href);
    if (!sameGuide(url) || a.hasAttribute("download")) return;
    e.preventDefault();
    load(url.href, true);
  });

  window.addEventListener("popstate", function () { load(location.href, false); });

  // ARIA 1.2 combobox with a listbox popup.
  function combobox(input) {
    if (input.dataset.ready) return;
    input.dataset.ready = "1";
    var hidden = input.form.querySelector("input[type=hidden][name=commune]");
    var list = document.createElement("ul");
    var id = input.id + "-list";
    list.id = id;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.dataset.listLabel || "Communes");
    list.hidden = true;
    input.parentNode.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);
    input.setAttribute("autocomplete", "off");
    var items = [], active = -1, timer = null, seq = 0;

    function close() {
      list.hidden = true; input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant"); active = -1;
    }
    function radios() {
      return input.form.querySelectorAll("input[type=radio][name=commune]");
    }
    function pick(i) {
      var it = items[i]; if (!it) return;
      input.value = it.label;
      // On the page that already lists matches, the choice made here wins.
      radios().forEach(function (r) { r.checked = false; r.disabled = true; });
      if (!hidden) {
        hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "commune";
        input.form.appendChild(hidden);
      }
      hidden.value = it.code;
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
      close();
    }
    function highlight(i) {
      var opts = list.querySelectorAll("[role=option]");
      opts.forEach(function (o, j) { o.setAttribute("aria-selected", j === i ? "true" : "false"); });
      active = i;
      if (opts[i]) { input.setAttribute("aria-activedescendant", opts[i].id); opts[i].scrollIntoView({ block: "nearest" }); }
    }
    function render(results) {
      items = results.map(function (r) {
        var where = r.current ? " (" + (input.dataset.nowIn || "aujourd'hui") + " " + r.current.name + ")" : "";
        var dep = r.departement_name ? r.departement_name + " (" + r.departement + ")" : r.departement;
        return { code: r.code, label: r.name + " – " + dep + where };
      });
      list.innerHTML = "";
      items.forEach(function (it, i) {
        var li = document.createElement("li");
        li.id = id + "-" + i; li.setAttribute("role", "option"); li.setAttribute("aria-selected", "false");
        li.textContent = it.label;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      var open = items.length > 0;
      list.hidden = !open; input.setAttribute("aria-expanded", open ? "true" : "false"); active = -1;
      announce(items.length + " " + (input.dataset.resultsLabel || "résultats"));
    }
    input.addEventListener("input", function () {
      if (hidden) hidden.value = "";
      radios().forEach(function (r) { r.checked = false; });
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      timer = setTimeout(function () {
        if (!input.isConnected) return;
        var mine = ++seq;
        fetch("/api/v1/communes?limit=8&q=" + encodeURIComponent(q), { credentials: "omit" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          // Not for a field the step has left (sent before the answer came).
          .then(function (j) { if (mine === seq && input.isConnected) render(j.results || []); })
          .catch(close);
      }, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); if (list.hidden && items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); } highlight(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (e.key === "Enter" && !list.hidden && active >= 0) { e.preventDefault(); pick(active); }
      else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  function enhance() {
    if (embed) {
      document.querySelectorAll("a[href]").forEach(function (a) {
        var u = new URL(a.href, location.href);
        if (!sameGuide(u) && u.hash === "" ) { a.target = "_blank"; a.rel = "noopener"; }
      });
    }
    main.querySelectorAll("input[data-combobox]").forEach(combobox);
    main.querySelectorAll("button[data-print]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });
  }
  // Audience measurement (see /confidentialite): clicks on a holder's
  // contact, website or request links, and the widget shown inside a host
  // page, sent with navigator.sendBeacon to /api/v1/events. Page loads are
  // recorded by the server; nothing here is needed for the guide to work.
  var lastSeq = 0;
  function beacon(ev) {
    var run = main.querySelector("input[name=run]");
    if (!navigator.sendBeacon || !run || !run.value) return;
    var site = main.querySelector("input[name=site]");
    var st = document.getElementById("ld-state");
    ev.run = run.value;
    ev.seq = lastSeq = Math.max(Date.now(), lastSeq + 1);
    ev.guide = location.pathname.split("/")[2] || "";
    if (site && site.value) ev.site = site.value;
    if (st && st.getAttribute("data-step")) ev.step = st.getAttribute("data-step");
    try { navigator.sendBeacon("/api/v1/events", JSON.stringify(ev)); } catch (err) { /* never in the way */ }
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href]");
    var card = a && a.closest(".card[data-service]");
    if (!card) return;
    var service = card.getAttribute("data-service");
    var href = a.getAttribute("href") || "";
    var link = /^(mailto|tel):/i.test(href) ? "contact"
      : a.closest("dl.contact") ? "website"
      // The request form of Locadocs itself is counted by the server.
      : a.classList.contains("btn") && href.indexOf("/demande/") !== 0 ? "request" : null;
    if (!link || service.charAt(0) === "@") return;
    var doc = a.closest("[data-document]");
    var ev = { type: "link_clicked", service: service, link: link };
    if (doc) ev.document_type = doc.getAttribute("data-document");
    beacon(ev);
  }, true);

  // The widget's side of embed.js: after the host's greeting, report each
  // step and every change of height to that host only.
  var host = null, sent = 0;
  function height() {
    return Math.ceil(document.documentElement.getBoundingClientRect().height);
  }
  function post(m) {
    if (!host) return;
    m.ld = 1;
    m.height = sent = height();
    window.parent.postMessage(m, host);
  }
  function tell() {
    var el = document.getElementById("ld-state");
    var r = el && el.getAttribute("data-result");
    post({ type: "step", step: el ? el.getAttribute("data-step") : "", title: document.title, result: r ? JSON.parse(r) : null });
  }
  if (embed) {
    window.addEventListener("message", function (e) {
      var m = e.data;
      if (e.source !== window.parent || !m || m.ld !== 1 || m.type !== "hello") return;
      var first = !host;
      host = e.origin === "null" ? "*" : e.origin;
      if (first && host !== "*") beacon({ type: "widget_shown", origin: e.origin });
      tell();
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        if (height() !== sent) post({ type: "resize" });
      }).observe(document.documentElement);
    }
  }
  enhance();
  // Back from a feedback or suggestion form: the thanks are read.
  var thanks = location.hash === "#merci" && document.getElementById("merci");
  if (thanks) {
    thanks.focus({ preventScroll: embed });
    announce(thanks.textContent.trim());
  }
})();
