// The boarding page refreshes its numbers and the no-show list every 15 seconds.
(function () {
  "use strict";
  var table = document.getElementById("boarding");
  if (!table) { return; }
  var url = table.dataset.refreshUrl;
  var stamp = document.getElementById("refreshed");

  function update(data) {
    var totals = { expected: 0, boarded: 0, no_show: 0, waiting: 0, packs: 0 };
    data.buses.forEach(function (bus) {
      var row = table.querySelector('tr[data-trip="' + bus.trip_id + '"]');
      if (!row) { return; }
      ["expected", "boarded", "no_show", "waiting", "packs"].forEach(function (field) {
        var cell = row.querySelector('[data-field="' + field + '"]');
        if (cell) { cell.textContent = bus[field]; }
      });
      var bar = row.querySelector("progress");
      if (bar) { bar.value = bus.boarded; }
      Object.keys(totals).forEach(function (field) { totals[field] += bus[field]; });
    });
    Object.keys(totals).forEach(function (field) {
      var cell = document.querySelector('[data-total="' + field + '"]');
      if (cell) { cell.textContent = totals[field]; }
    });
    var list = document.getElementById("no-show-list");
    list.textContent = "";
    if (!data.no_shows.length) {
      var none = document.createElement("li");
      none.className = "muted empty-item";
      none.textContent = list.dataset.empty;
      list.appendChild(none);
    }
    data.no_shows.forEach(function (s) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = s.url;
      link.textContent = s.name;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" · " + s.county + " · " + s.trip + " / " + s.seat));
      list.appendChild(item);
    });
    stamp.textContent = stamp.dataset.label + " " + new Date().toTimeString().slice(0, 8);
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { update(data); } })
      .catch(function () { /* try again at the next tick */ });
  }
  setInterval(refresh, 1000 * (parseFloat(table.dataset.refreshS) || 15));
})();
