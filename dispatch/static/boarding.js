// The boarding page refreshes its numbers and the no-show list every 15 seconds. A no-show's
// Call button fetches the number (the server records who asked), shows it and dials it;
// numbers shown stay shown across refreshes.
(function () {
  "use strict";
  var table = document.getElementById("boarding");
  if (!table) { return; }
  var url = table.dataset.refreshUrl;
  var stamp = document.getElementById("refreshed");
  var list = document.getElementById("no-show-list");
  var revealed = {};  // worker id -> {phone, national}

  function reveal(item, number) {
    var link = item.querySelector("a.revealed");
    var button = item.querySelector("button[data-call]");
    if (!link) { return; }
    link.href = "tel:" + number.phone;
    link.textContent = number.national;
    link.hidden = false;
    if (button) { button.hidden = true; }
    item.querySelector(".masked").hidden = true;
  }

  function call(button) {
    var item = button.closest("li");
    var token = document.querySelector('input[name="csrf_token"]');
    button.disabled = true;
    fetch(button.dataset.phoneUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify({ worker_id: parseInt(button.dataset.call, 10) })
    }).then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        revealed[data.worker_id] = data;
        reveal(item, data);
        window.location.href = "tel:" + data.phone;  // dial
      })
      .catch(function () { button.disabled = false; button.title = list.dataset.callFailed; });
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-call]");
    if (button) { call(button); }
  });

  function noShowItem(s) {
    var item = document.createElement("li");
    item.dataset.worker = s.worker_id;
    var link = document.createElement("a");
    link.href = s.url;
    link.textContent = s.name;
    item.appendChild(link);
    item.appendChild(document.createTextNode(" · " + s.county + " · " + s.trip + " / " + (s.seat_label || s.seat) + " · "));
    var masked = document.createElement("span");
    masked.className = "mono masked";
    masked.textContent = s.phone;
    item.appendChild(masked);
    if (s.phone_url) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "call";
      button.dataset.call = s.worker_id;
      button.dataset.phoneUrl = s.phone_url;
      button.textContent = list.dataset.callLabel;
      var shown = document.createElement("a");
      shown.className = "revealed mono";
      shown.hidden = true;
      item.appendChild(document.createTextNode(" "));
      item.appendChild(button);
      item.appendChild(shown);
      if (revealed[s.worker_id]) { reveal(item, revealed[s.worker_id]); }
    }
    return item;
  }

  function update(data) {
    var totals = { expected: 0, boarded: 0, no_show: 0, waiting: 0, packs: 0, arrived: 0, confirmed: 0, declined: 0, no_answer: 0 };
    data.buses.forEach(function (bus) {
      var row = table.querySelector('tr[data-trip="' + bus.trip_id + '"]');
      if (!row) { return; }
      Object.keys(totals).forEach(function (field) {
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
    list.textContent = "";
    if (!data.no_shows.length) {
      var none = document.createElement("li");
      none.className = "muted empty-item";
      none.textContent = list.dataset.empty;
      list.appendChild(none);
    }
    data.no_shows.forEach(function (s) { list.appendChild(noShowItem(s)); });
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
