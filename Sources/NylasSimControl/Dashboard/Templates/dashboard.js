// NylasSimulator dashboard: keeps the server-rendered page live. No framework, no build step.
// Data only ever reaches the DOM through textContent or through nodes parsed from the server's
// escaped HTML (DOMParser + importNode); no HTML string is ever assigned to an element.
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var token = params.get('token');
  var revealed = {};   // ref -> value fetched on click
  var hidden = {};     // ref -> true when the user hid a secret the page showed
  var lastHTML = {};   // section id -> the markup last applied
  var bodies = {};     // data-src -> promise of its JSON (journal entries and deliveries never change)
  var reveal = ['1', 'true', 'yes'].indexOf(String(params.get('reveal') || '').toLowerCase()) >= 0;
  var busy = false;
  var status = document.getElementById('live-status');

  function headers(extra) {
    var h = extra || {};
    if (token) h['X-Sim-Control-Token'] = token;
    return h;
  }

  function pageQuery() {
    var p = new URLSearchParams(location.search);
    p.delete('token');
    var s = p.toString();
    return s ? '?' + s : '';
  }

  function setStatus(text, ok) {
    if (!status) return;
    status.textContent = text;
    status.className = 'live-status ' + (ok ? 'on' : 'off');
  }

  function say(id, text, ok) {
    var el = document.getElementById(id);
    if (!el) return;
    el.textContent = text;
    el.className = 'message ' + (ok ? 'ok' : 'bad');
  }

  async function errorText(response) {
    try {
      var body = await response.json();
      if (body && body.error && body.error.message) return response.status + ': ' + body.error.message;
    } catch (e) { /* not JSON */ }
    return 'HTTP ' + response.status;
  }

  // Secrets: masked in the markup, fetched on click, kept across live updates.
  function applySecrets(root) {
    root.querySelectorAll('.secret[data-ref]').forEach(function (span) {
      var ref = span.getAttribute('data-ref');
      var value = span.querySelector('.secret-value');
      var button = span.querySelector('button.reveal');
      if (!value || !button) return;
      if (Object.prototype.hasOwnProperty.call(revealed, ref)) {
        value.textContent = revealed[ref];
        value.classList.remove('masked');
        button.textContent = 'hide';
      } else if (hidden[ref] || value.classList.contains('masked')) {
        value.textContent = '\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022';
        value.classList.add('masked');
        button.textContent = 'reveal';
      }
    });
  }

  async function toggleSecret(button) {
    var ref = button.getAttribute('data-ref');
    var span = button.closest('.secret');
    var value = span && span.querySelector('.secret-value');
    if (!value) return;
    if (!value.classList.contains('masked')) {
      delete revealed[ref];
      hidden[ref] = true;
      applySecrets(document);
      return;
    }
    var response = await fetch('/__sim/ui/secret?ref=' + encodeURIComponent(ref), { headers: headers(), cache: 'no-store' });
    if (!response.ok) { value.textContent = await errorText(response); return; }
    var body = await response.json();
    revealed[ref] = String(body.value);
    delete hidden[ref];
    applySecrets(document);
  }

  // Bodies of requests and deliveries: fetched when their <details> opens, shown as text.
  function loadBody(details) {
    var src = details.getAttribute('data-src');
    if (!src) return;
    if (!bodies[src]) {
      bodies[src] = fetch(src + (reveal ? '&reveal=1' : ''), { headers: headers(), cache: 'no-store' }).then(async function (r) {
        if (!r.ok) { delete bodies[src]; return { error: await errorText(r) }; }
        return r.json();
      }, function (e) { delete bodies[src]; return { error: e.message }; });
    }
    bodies[src].then(function (data) {
      details.querySelectorAll('pre[data-field]').forEach(function (pre) {
        var value = data.error ? 'could not load: ' + data.error : data[pre.getAttribute('data-field')];
        pre.textContent = (value === undefined || value === null || value === '') ? '(no body)' : String(value);
      });
    });
  }

  // Live update: fetch the sections, swap the ones whose markup changed.
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      var response = await fetch('/__sim/ui/live' + pageQuery(), { headers: headers(), cache: 'no-store' });
      if (!response.ok) { setStatus('not updating: ' + await errorText(response), false); return; }
      var doc = new DOMParser().parseFromString(await response.text(), 'text/html');
      doc.querySelectorAll('[data-live][id]').forEach(function (fresh) {
        var id = fresh.id;
        var current = document.getElementById(id);
        if (!current) return;
        var html = fresh.outerHTML;
        if (lastHTML[id] === html) return;
        var open = {};
        current.querySelectorAll('details[data-key]').forEach(function (d) { if (d.open) open[d.getAttribute('data-key')] = true; });
        var node = document.importNode(fresh, true);
        node.querySelectorAll('details[data-key]').forEach(function (d) { if (open[d.getAttribute('data-key')]) d.open = true; });
        applySecrets(node);
        current.replaceWith(node);
        node.querySelectorAll('details[open][data-src]').forEach(loadBody);
        lastHTML[id] = html;
      });
      setStatus('live \u00b7 updated ' + new Date().toLocaleTimeString(), true);
    } catch (e) {
      setStatus('not updating: ' + e.message, false);
    } finally {
      busy = false;
    }
  }

  function loop() {
    refresh().finally(function () { setTimeout(loop, document.hidden ? 5000 : 1000); });
  }

  async function advance(button) {
    var value = button.getAttribute('data-advance');
    var buttons = document.querySelectorAll('button.advance');
    buttons.forEach(function (b) { b.disabled = true; });
    say('clock-message', 'advancing ' + value + '\u2026', true);
    try {
      var response = await fetch('/__sim/clock', {
        method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify({ advance: value })
      });
      if (!response.ok) { say('clock-message', 'advance failed: ' + await errorText(response), false); return; }
      var clock = await response.json();
      say('clock-message', 'advanced ' + value + ': now ' + String(clock.now), true);
    } catch (e) {
      say('clock-message', 'advance failed: ' + e.message, false);
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
    await refresh();
  }

  async function deliver(form) {
    var data = new FormData(form);
    var mailbox = String(data.get('mailbox') || '').trim();
    if (!mailbox) { say('deliver-message', 'choose a mailbox', false); return; }
    var body = { from: String(data.get('from') || ''), subject: String(data.get('subject') || ''), body: String(data.get('body') || '') };
    try {
      var response = await fetch('/__sim/providers/mailboxes/' + encodeURIComponent(mailbox) + '/messages', {
        method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(body)
      });
      if (!response.ok) { say('deliver-message', 'not delivered: ' + await errorText(response), false); return; }
      say('deliver-message', 'delivered to ' + mailbox, true);
      form.querySelector('[name=subject]').value = '';
      form.querySelector('[name=body]').value = '';
    } catch (e) {
      say('deliver-message', 'not delivered: ' + e.message, false);
    }
    await refresh();
  }

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var advanceButton = target.closest('button[data-advance]');
    if (advanceButton) { event.preventDefault(); advance(advanceButton); return; }
    var revealButton = target.closest('button.reveal');
    if (revealButton) { event.preventDefault(); toggleSecret(revealButton); }
  });

  // 'toggle' does not bubble: listen in the capture phase.
  document.addEventListener('toggle', function (event) {
    var d = event.target;
    if (d instanceof HTMLDetailsElement && d.open && d.hasAttribute('data-src')) loadBody(d);
  }, true);

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.id === 'deliver-form') { event.preventDefault(); deliver(form); return; }
    if (form.id === 'journal-filter') {
      // Keep the control token (and drop empty filters) when the filters reload the page.
      event.preventDefault();
      var p = new URLSearchParams();
      new FormData(form).forEach(function (v, k) { if (String(v).trim() !== '') p.set(k, String(v).trim()); });
      if (token) p.set('token', token);
      var s = p.toString();
      location.assign('/__sim/ui' + (s ? '?' + s : ''));
    }
  });

  document.querySelectorAll('[data-live][id]').forEach(function (el) { lastHTML[el.id] = el.outerHTML; });
  // Links that reload the page keep the token too.
  if (token) {
    document.querySelectorAll('a.clear').forEach(function (a) { a.setAttribute('href', '/__sim/ui?token=' + encodeURIComponent(token)); });
  }
  setStatus('live', true);
  loop();
})();
