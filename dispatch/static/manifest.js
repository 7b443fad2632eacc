// Manifest page: print and copy buttons, and the boarding check-in.
//
// Per passenger there are two marks: attendance (boarded, no_show or none) and the welfare
// pack (true/false). Each tap sets what is wanted; one request per mark is in flight at a
// time and it always carries the latest wish, so an old request or a retry can never undo a
// later tap. After a failure the server's value is unknown (the request may have arrived),
// so the next wish is always sent. A request that fails is visibly retried with back-off
// (and after 10 s without an answer it counts as failed); wishes not yet saved survive a
// reload for 12 hours. A request refused for good (409, a signed-out session) stops and says so.
//
// A pack handed out stays handed out on a second tap; its "Undo" button takes it back for
// data-undo-s seconds (the server refuses later undos). A call button asks the server for the
// passenger's number (the server records who asked), shows it and dials it.
(function () {
  "use strict";
  var body = document.body;
  var UNDO_MS = 1000 * (parseInt(body.dataset.undoS, 10) || 600);

  function undoFresh(tr) {
    var at = parseInt(tr.dataset.packAt || "", 10);
    return !isNaN(at) && Date.now() - at < UNDO_MS;
  }

  function showUndo(tr) {
    var undo = tr.querySelector('button[data-undo="pack"]');
    var pack = tr.querySelector('button[data-mark="pack"]');
    if (undo && pack) { undo.hidden = !(pack.getAttribute("aria-pressed") === "true" && undoFresh(tr)); }
  }

  document.querySelectorAll("tr[data-pack-at]").forEach(showUndo);
  setInterval(function () { document.querySelectorAll("tr[data-pack-at]").forEach(showUndo); }, 5000);

  var phoneUrl = body.dataset.phoneUrl;
  function call(btn) {
    var tr = btn.closest("tr");
    var link = tr.querySelector("a.revealed");
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    var token = document.querySelector('meta[name="csrf-token"]');
    if (token) { headers["X-CSRFToken"] = token.content; }
    btn.disabled = true;
    fetch(phoneUrl, {
      method: "POST", headers: headers, credentials: "same-origin",
      body: JSON.stringify({ worker_id: parseInt(btn.dataset.call, 10) })
    }).then(function (response) {
      return response.ok ? response.json() : Promise.reject(response.status);
    }).then(function (data) {
      link.href = "tel:" + data.phone;
      link.textContent = data.national;
      link.hidden = false;
      btn.hidden = true;
      tr.querySelector(".masked").classList.add("print-only");
      window.location.href = link.href;  // dial: the phone asks to call
    }).catch(function () {
      btn.disabled = false;
      var status = document.getElementById("sync-status");
      status.className = "sync screen-only failed";
      status.textContent = body.dataset.msgCallFailed;
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest(".js-print")) { window.print(); }
    var callButton = target.closest("button[data-call]");
    if (callButton && phoneUrl) { call(callButton); }
    var copy = target.closest(".js-copy");
    if (copy) {
      var input = document.getElementById(copy.dataset.target);
      input.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(input.value).catch(function () {}); }
      else { document.execCommand("copy"); }
      copy.textContent = copy.dataset.done;
    }
  });

  var url = body.dataset.markUrl;
  if (!url) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var storeKey = "dispatch-marks:" + url;
  var KEEP_MS = 12 * 3600 * 1000;
  var TIMEOUT_MS = 10000;
  var UNKNOWN = {};  // the server's value after a failed request
  var status = document.getElementById("sync-status");
  var jobs = {};  // "worker:kind" -> {worker, kind, want, confirmed, busy, attempt, timer, at, dead}

  function row(worker) { return document.querySelector('tr[data-worker="' + worker + '"]'); }

  function shown(worker, kind, value) {
    var tr = row(worker);
    if (!tr) { return; }
    if (kind === "pack") {
      tr.querySelector('button[data-mark="pack"]').setAttribute("aria-pressed", value ? "true" : "false");
      if (!value) { delete tr.dataset.packAt; }
      showUndo(tr);
      return;
    }
    tr.querySelector('button[data-mark="boarded"]').setAttribute("aria-pressed", value === "boarded" ? "true" : "false");
    tr.querySelector('button[data-mark="no_show"]').setAttribute("aria-pressed", value === "no_show" ? "true" : "false");
    tr.classList.toggle("is-boarded", value === "boarded");
    tr.classList.toggle("is-no-show", value === "no_show");
    // the arrival hand-over lists below follow (gate.js): boarded now means handed over later
    document.dispatchEvent(new CustomEvent("dispatch:boarded", { detail: { worker: String(worker), boarded: value === "boarded" } }));
  }

  function current(worker, kind) {
    var tr = row(worker);
    if (kind === "pack") { return tr.querySelector('button[data-mark="pack"]').getAttribute("aria-pressed") === "true"; }
    if (tr.querySelector('button[data-mark="boarded"]').getAttribute("aria-pressed") === "true") { return "boarded"; }
    if (tr.querySelector('button[data-mark="no_show"]').getAttribute("aria-pressed") === "true") { return "no_show"; }
    return "none";
  }

  function buttons(job) {
    var tr = row(job.worker);
    return job.kind === "pack" ? [tr.querySelector('button[data-mark="pack"]')]
      : [tr.querySelector('button[data-mark="boarded"]'), tr.querySelector('button[data-mark="no_show"]')];
  }

  function classes(job, pending, retrying) {
    buttons(job).forEach(function (btn) {
      btn.classList.toggle("pending", pending);
      btn.classList.toggle("retrying", retrying);
    });
  }

  function open(job) { return !job.dead && job.want !== job.confirmed; }

  function remember() {
    var unsaved = {};
    Object.keys(jobs).forEach(function (key) {
      var job = jobs[key];
      if (open(job) || (job.keep && job.want !== job.confirmed)) { unsaved[key] = { value: job.want, at: job.at }; }
    });
    try { localStorage.setItem(storeKey, JSON.stringify(unsaved)); } catch (e) { /* private mode */ }
  }

  function say(text, kind) {
    status.className = "sync screen-only" + (kind ? " " + kind : "");
    status.textContent = text;
  }

  function showStatus() {
    var keys = Object.keys(jobs);
    var waiting = keys.filter(function (k) { return open(jobs[k]); });
    var retrying = waiting.filter(function (k) { return jobs[k].attempt > 0; });
    if (keys.some(function (k) { return jobs[k].dead; })) { return; }  // a refusal stays on screen
    if (retrying.length) { say(body.dataset.msgRetrying + " (" + retrying.length + ")", "retrying"); }
    else if (waiting.length) { say(body.dataset.msgSaving); }
    else if (keys.length) { say(body.dataset.msgSaved); }
  }

  function counts(values) {
    Object.keys(values || {}).forEach(function (name) {
      document.querySelectorAll('[data-count="' + name + '"]').forEach(function (cell) { cell.textContent = values[name]; });
    });
  }

  function serverValue(kind, state) {
    if (kind === "pack") { return !!state.pack; }
    return state.boarded ? "boarded" : state.no_show ? "no_show" : "none";
  }

  function refuse(job, message) {
    job.dead = true;
    classes(job, false, false);
    say(body.dataset.msgFailed + " " + message, "failed");
  }

  function retry(job) {
    job.attempt += 1;
    job.confirmed = UNKNOWN;
    classes(job, false, true);
    showStatus();
    clearTimeout(job.timer);
    job.timer = setTimeout(function () { send(job); }, Math.min(30000, 1000 * Math.pow(2, job.attempt - 1)));
  }

  function send(job) {
    if (job.busy || !open(job)) { return; }
    job.busy = true;
    var value = job.want;
    classes(job, true, job.attempt > 0);
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (csrf) { headers["X-CSRFToken"] = csrf.content; }
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) { controller.abort(); } }, TIMEOUT_MS);
    fetch(url, {
      method: "POST", headers: headers, credentials: "same-origin", redirect: "manual",
      signal: controller ? controller.signal : undefined,
      body: JSON.stringify({ worker_id: job.worker, mark: job.kind, value: value })
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { status: response.status, ok: response.ok, data: data };
      });
    }).then(function (result) {
      clearTimeout(timer);
      job.busy = false;
      var state = result.data && result.data.state;
      if (result.ok && state) {
        job.confirmed = serverValue(job.kind, state);
        job.attempt = 0;
        classes(job, false, false);
        if (!open(job)) { shown(job.worker, job.kind, job.confirmed); }
        counts(result.data.counts);
        remember();
        showStatus();
        send(job);  // tapped again meanwhile
      } else if (result.status === 408 || result.status === 429 || result.status >= 500) {
        retry(job);
      } else if (result.status === 0 || result.status === 401) {  // signed out: keep the wish for later
        job.keep = true;
        refuse(job, body.dataset.msgSignIn);
        remember();
      } else {  // refused for good: passenger moved, trip stopped, link revoked or expired
        refuse(job, (result.data && result.data.message) || body.dataset.msgReload);
        remember();
      }
    }).catch(function () {
      clearTimeout(timer);
      job.busy = false;
      retry(job);
    });
  }

  function want(worker, kind, value, at) {
    if (!row(worker)) { return; }
    var key = worker + ":" + kind;
    var job = jobs[key];
    if (!job) {
      job = jobs[key] = { worker: worker, kind: kind, confirmed: current(worker, kind), busy: false, attempt: 0, timer: null };
    }
    job.want = value;
    job.at = at || Date.now();
    job.dead = false;
    job.keep = false;
    shown(worker, kind, value);
    remember();
    showStatus();
    clearTimeout(job.timer);
    send(job);
  }

  document.addEventListener("click", function (event) {
    var undo = event.target.closest('button[data-undo="pack"]');
    if (undo) { want(parseInt(undo.closest("tr").dataset.worker, 10), "pack", false); return; }
    var btn = event.target.closest("button[data-mark]");
    if (!btn) { return; }
    var tr = btn.closest("tr");
    var worker = parseInt(tr.dataset.worker, 10);
    var mark = btn.dataset.mark;
    if (mark === "pack") {
      if (btn.getAttribute("aria-pressed") === "true") { return; }  // handed out: only Undo takes it back
      tr.dataset.packAt = String(Date.now());
      want(worker, "pack", true);
    } else { want(worker, "attendance", btn.getAttribute("aria-pressed") === "true" ? "none" : mark); }
  });

  window.addEventListener("online", function () {
    Object.keys(jobs).forEach(function (key) { clearTimeout(jobs[key].timer); send(jobs[key]); });
  });

  try {  // wishes a reload interrupted (not older than 12 hours)
    var unsaved = JSON.parse(localStorage.getItem(storeKey) || "{}");
    Object.keys(unsaved).forEach(function (key) {
      var parts = key.split(":");
      var entry = unsaved[key];
      if (entry && typeof entry.at === "number" && Date.now() - entry.at < KEEP_MS) {
        want(parseInt(parts[0], 10), parts[1], entry.value, entry.at);
      }
    });
  } catch (e) { /* nothing stored */ }
})();
