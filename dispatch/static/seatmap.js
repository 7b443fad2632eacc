/* The bus page's seat map: click (or Enter/Space on) a passenger, then a seat, to move or swap.
   Each change submits the page's move form (the same fields as the typed forms) to that change's
   own address (data-place-url, data-swap-url, …), so the server answers with its usual message
   and the optimistic-lock version travels with it. */
(function () {
  "use strict";
  var form = document.getElementById("move-form");
  if (!form) { return; }
  var status = document.getElementById("move-status");
  var picked = null;
  var sending = false; // one change per page: a second click while the first is saving is ignored

  function fill(text, values) {
    Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
    return text;
  }
  function say(key, values) { status.textContent = fill(form.dataset[key] || "", values); }
  function showActions(button) {
    var seated = button && button.classList.contains("seat");
    var locked = seated && button.dataset.locked === "1";
    form.querySelector('[data-do="lock"]').hidden = !seated || locked;
    form.querySelector('[data-do="unlock"]').hidden = !locked;
    form.querySelector('[data-do="free"]').hidden = !seated || locked;
    form.querySelector('[data-do="cancel"]').hidden = !button;
  }
  function choose(button) {
    if (picked) { picked.setAttribute("aria-pressed", "false"); }
    picked = button;
    document.body.classList.toggle("seat-moving", !!button);
    showActions(button);
    if (!button) { say("idle"); return; }
    button.setAttribute("aria-pressed", "true");
    say(button.dataset.seat ? "picked" : "pickedWaiting", { name: button.dataset.name });
  }
  function send(action, fields) {
    sending = true;
    form.setAttribute("action", form.dataset[action + "Url"]);
    Object.keys(fields).forEach(function (name) { form.elements[name].value = fields[name]; });
    say("saving");
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    form.submit();
  }
  function onSeat(button) {
    var seat = button.dataset.seat;
    if (button === picked) { choose(null); return; }
    if (!picked) {
      if (!button.dataset.worker) { say("empty", { seat: seat }); return; }
      if (button.dataset.locked === "1") { choose(button); say("locked", { seat: seat }); return; }
      choose(button);
      return;
    }
    if (picked.dataset.locked === "1") {
      say("locked", { seat: picked.dataset.seat });
    } else if (!button.dataset.worker) {
      send("place", { worker_id: picked.dataset.worker, seat_no: seat });
    } else if (picked.dataset.seat && button.dataset.locked !== "1") {
      send("swap", { seat_no: picked.dataset.seat, other_seat: seat });
    } else if (button.dataset.locked === "1") {
      say("locked", { seat: seat });
    } else {
      say("occupied", { seat: seat });
    }
  }
  function onAction(name) {
    if (name === "cancel" || !picked) { choose(null); return; }
    send(name, { seat_no: picked.dataset.seat });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("button.seat, button.pick, #move-form button[data-do]");
    if (!target || target.disabled || sending) { return; }
    if (target.dataset.do) { onAction(target.dataset.do); }
    else if (target.classList.contains("pick")) { choose(target === picked ? null : target); }
    else { onSeat(target); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && picked) { choose(null); }
  });
  form.hidden = false;
  choose(null);
}());
