// fedinvoice viewer: applies the live updates the server pushes (Server-Sent Events) to the invoice page.
// The page is complete without this script (reload to refresh); the HTML it inserts is rendered and escaped
// by the server, the same way as the page itself.
(function () {
  'use strict';
  var live = document.getElementById('live');
  if (!live || typeof window.EventSource !== 'function') return;
  var version = Number(live.getAttribute('data-version')) || 0;
  var connection = document.getElementById('connection');
  var announcer = document.getElementById('announcer');
  var source = new EventSource(live.getAttribute('data-events'));

  source.addEventListener('invoice', function (event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (typeof data.version !== 'number' || data.version <= version || typeof data.html !== 'string') return;
    version = data.version;
    // Keep open <details> open across the update.
    var open = Array.prototype.map.call(live.querySelectorAll('details[open]'), function (d) {
      return d.className;
    });
    live.innerHTML = data.html;
    open.forEach(function (name) {
      var details = live.querySelector('details.' + name);
      if (details) details.open = true;
    });
    live.setAttribute('data-version', String(version));
    if (typeof data.title === 'string') document.title = data.title;
    if (announcer && data.announce) announcer.textContent = data.announce;
  });
  source.addEventListener('open', function () {
    if (connection) connection.hidden = true;
  });
  source.addEventListener('error', function () {
    if (connection) connection.hidden = false;
  });
})();
