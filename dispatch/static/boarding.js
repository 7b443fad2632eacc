// The boarding page refreshes its numbers and the no-show list every 15 seconds.
(function () {
  "use strict";
  var table = document.getElementById("boarding");
  if (!table) { return; }
  var url = table.dataset.refreshUrl;
  var stamp = document.getElementById("refreshed");

  function update(data) {
    var totals = { boarded: 0, no_show: 0 };
    data.buses.forEach(function (bus) {
      var row = table.querySelector('tr[data-trip="' + bus.trip_id + '"]');
      if (!row) { return; }
      ["expected", "boarded", "no_show", "waiting", "packs"].forEach(function (field) {
        var cell = row.querySelector('[data-field="' + field + '"]');
        if (cell) { cell.textContent = bus[field]; }
      });
      var bar = row.querySelector("progress");
      if (bar) { bar.value = bus.boarded; }
      totals.boarded += bus.boarded;
      totals.no_show += bus.no_show;
    });
    var boarded = document.getElementById("total-boarded");
    if (boarded) { boarded.textContent = totals.boarded; }
    var noShow = document.getElementById("total-no-show");
    if (noShow) { noShow.textContent = totals.no_show; }
    var list = document.getElementById("no-show-list");
    if (data.no_shows.length) {
      list.textContent = "";
      data.no_shows.forEach(function (s) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = s.url;
        link.textContent = s.name;
        item.appendChild(link);
        item.appendChild(document.createTextNode(" · " + s.county + " · " + s.trip + " / " + s.seat));
        list.appendChild(item);
      });
    }
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
