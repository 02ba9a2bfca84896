// /integrer: the snippet and the preview follow the form as it changes.
// Without this script the form is sent and the page rebuilt by the server,
// which writes the same snippet.
(function () {
  "use strict";
  var form = document.getElementById("integrer");
  var code = document.getElementById("code");
  var preview = document.getElementById("apercu");
  if (!form || !code || !preview) return;
  var base = preview.getAttribute("data-base");
  var linkText = "Trouver un document avec Locadocs";

  function esc(s) {
    return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  function choice() {
    var f = new FormData(form);
    var color = (f.get("color") || "").trim().toLowerCase();
    if (color && color[0] !== "#") color = "#" + color;
    var site = (f.get("site") || "").trim();
    return {
      guide: f.get("guide") || "",
      commune: /^[0-9][0-9AB][0-9]{3}$/.test(f.get("commune") || "") ? f.get("commune") : "",
      theme: f.get("theme") === "dsfr" ? "dsfr" : "",
      color: /^#([0-9a-f]{3}|[0-9a-f]{6})$/.test(color) ? color : "",
      lang: f.get("lang") === "en" ? "en" : "",
      site: /^[a-z0-9-]{1,80}$/.test(site) ? site : ""
    };
  }

  // Same attributes, same order as the server's snippet.
  function attrs(c) {
    var a = [["guide", c.guide]];
    if (c.commune) a.push(["commune", c.commune]);
    if (c.theme) a.push(["theme", c.theme]);
    if (c.color) a.push(["color", c.color]);
    if (c.lang) a.push(["lang", c.lang]);
    if (c.site) a.push(["site", c.site]);
    return a;
  }

  function snippet(c) {
    var q = [];
    if (c.commune) q.push("commune=" + c.commune);
    if (c.theme) q.push("theme=dsfr");
    if (c.color) q.push("color=%23" + c.color.slice(1));
    if (c.lang) q.push("lang=en");
    if (c.site) q.push("site=" + c.site);
    return "<script src=\"" + base + "/embed.js\" " +
      attrs(c).map(function (p) { return "data-" + p[0] + "=\"" + esc(p[1]) + "\""; }).join(" ") +
      " async></" + "script>\n<noscript><a href=\"" + base + "/g/" + c.guide + (q.length ? "?" + q.join("&") : "") +
      "\">" + linkText + "</a></noscript>";
  }

  function update() {
    var c = choice();
    code.textContent = snippet(c);
    preview.innerHTML = "";
    var s = document.createElement("script");
    s.src = "/embed.js";
    s.async = true;
    attrs(c).forEach(function (p) { s.setAttribute("data-" + p[0], p[1]); });
    preview.appendChild(s);
  }

  form.addEventListener("change", update);
  form.addEventListener("input", function (e) {
    if (e.target.name === "color" || e.target.name === "site") update();
  });

  var copy = document.getElementById("copier");
  var done = document.getElementById("copie");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent).then(function () {
        done.textContent = "Code copié.";
      }, function () {
        done.textContent = "La copie a échoué : sélectionnez le code et copiez-le.";
      });
    });
  }
})();
