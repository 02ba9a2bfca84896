// The back office's only script. Commune and territory fields
// (`data-ld-suggest`) suggest names while typing, in a <datalist> filled from
// /admin/territoires.json; choosing one writes the name as the server reads
// it back (« Rennes (35238) »). Without this script the same fields are typed
// by name and read on the server all the same.
(function () {
  'use strict';
  var WAIT_MS = 150;

  function enhance(input) {
    var list = document.createElement('datalist');
    list.id = input.id + '-suggestions';
    input.parentNode.appendChild(list);
    input.setAttribute('list', list.id);
    var timer = null;
    var asked = '';
    var pending = null;

    function chosen(value) {
      for (var i = 0; i < list.options.length; i++) {
        if (list.options[i].value === value) return true;
      }
      return false;
    }

    function fill(results) {
      list.textContent = '';
      results.forEach(function (s) {
        var o = document.createElement('option');
        o.value = s.value;
        o.label = s.label;
        list.appendChild(o);
      });
    }

    function ask(q) {
      asked = q;
      if (pending) pending.abort();
      pending = typeof AbortController === 'function' ? new AbortController() : null;
      var url = '/admin/territoires.json?niveaux=' + encodeURIComponent(input.dataset.ldSuggest) +
        '&q=' + encodeURIComponent(q);
      fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        signal: pending ? pending.signal : undefined
      })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          if (input.value.trim() === q) fill(data.results || []);
        })
        .catch(function () { /* typed and read on the server all the same */ });
    }

    input.addEventListener('input', function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2 || q === asked || chosen(q)) return;
      timer = setTimeout(function () { ask(q); }, WAIT_MS);
    });
  }

  function start() {
    var fields = document.querySelectorAll('input[data-ld-suggest]');
    Array.prototype.forEach.call(fields, enhance);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
