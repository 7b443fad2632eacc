// Manifest page: print and copy buttons, and the boarding check-in.
//
// Each tap sets one mark (boarded, no-show, pack) of one passenger with one small request.
// Per passenger and mark there is at most one request in flight; the request always carries
// the latest wanted value, so a slow or retried request can never undo a later tap. A failed
// request stays visibly marked and is retried with back-off until it is saved; marks not yet
// saved survive a reload of the page (localStorage).
(function () {
  "use strict";
  var body = document.body;

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest(".js-print")) { window.print(); }
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
  var status = document.getElementById("sync-status");
  var jobs = {};  // "worker:mark" -> {worker, mark, want, saved, busy, attempt, timer}

  function button(worker, mark) {
    return document.querySelector('tr[data-worker="' + worker + '"] button[data-mark="' + mark + '"]');
  }

  function remember() {
    var unsaved = {};
    Object.keys(jobs).forEach(function (key) {
      var job = jobs[key];
      if (job.want !== job.saved) { unsaved[key] = job.want; }
    });
    try { localStorage.setItem(storeKey, JSON.stringify(unsaved)); } catch (e) { /* private mode */ }
  }

  function showStatus() {
    var keys = Object.keys(jobs);
    var open = keys.filter(function (k) { return jobs[k].want !== jobs[k].saved; });
    var retrying = open.filter(function (k) { return jobs[k].attempt > 0; });
    status.className = "sync screen-only" + (retrying.length ? " retrying" : "");
    status.textContent = retrying.length ? body.dataset.msgRetrying + " (" + retrying.length + ")"
      : open.length ? body.dataset.msgSaving : keys.length ? body.dataset.msgSaved : "";
  }

  function paint(worker, state) {
    ["boarded", "no_show", "pack"].forEach(function (mark) {
      var job = jobs[worker + ":" + mark];
      var btn = button(worker, mark);
      if (!btn || (job && job.want !== job.saved)) { return; }  // a newer tap is on its way
      if (job) { job.want = job.saved = !!state[mark]; }
      btn.setAttribute("aria-pressed", state[mark] ? "true" : "false");
    });
    var row = document.querySelector('tr[data-worker="' + worker + '"]');
    row.classList.toggle("is-boarded", !!state.boarded);
    row.classList.toggle("is-no-show", !!state.no_show);
  }

  function counts(values) {
    Object.keys(values).forEach(function (name) {
      var cell = document.querySelector('[data-count="' + name + '"]');
      if (cell) { cell.textContent = values[name]; }
    });
  }

  function send(job) {
    if (job.busy || job.want === job.saved) { return; }
    job.busy = true;
    var value = job.want;
    var btn = button(job.worker, job.mark);
    btn.classList.add("pending");
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (csrf) { headers["X-CSRFToken"] = csrf.content; }
    fetch(url, {
      method: "POST", headers: headers, credentials: "same-origin",
      body: JSON.stringify({ worker_id: job.worker, mark: job.mark, value: value })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    }).then(function (result) {
      job.busy = false;
      if (result.ok) {
        job.saved = value;
        job.attempt = 0;
        btn.classList.remove("pending", "retrying");
        paint(job.worker, result.data.state);
        counts(result.data.counts);
      } else if (result.status >= 400 && result.status < 500 && result.status !== 408 && result.status !== 429) {
        // refused for good (passenger moved, trip cancelled, link revoked): say so, stop trying
        job.want = job.saved = !value;
        btn.classList.remove("pending", "retrying");
        btn.setAttribute("aria-pressed", value ? "false" : "true");
        status.className = "sync screen-only failed";
        status.textContent = body.dataset.msgFailed + " " + ((result.data && result.data.message) || result.status);
        remember();
        return;
      } else {
        throw new Error("HTTP " + result.status);
      }
      remember();
      showStatus();
      send(job);  // tapped again meanwhile
    }).catch(function () {
      job.busy = false;
      job.attempt += 1;
      btn.classList.add("retrying");
      showStatus();
      clearTimeout(job.timer);
      job.timer = setTimeout(function () { send(job); }, Math.min(30000, 1000 * Math.pow(2, job.attempt - 1)));
    });
  }

  function want(worker, mark, value) {
    var key = worker + ":" + mark;
    var btn = button(worker, mark);
    if (!btn) { return; }
    var job = jobs[key];
    if (!job) {
      job = jobs[key] = { worker: worker, mark: mark, saved: btn.getAttribute("aria-pressed") === "true",
                          busy: false, attempt: 0, timer: null };
    }
    job.want = value;
    btn.setAttribute("aria-pressed", value ? "true" : "false");
    if (value && (mark === "boarded" || mark === "no_show")) {  // the two exclude each other
      var other = button(worker, mark === "boarded" ? "no_show" : "boarded");
      if (other) { other.setAttribute("aria-pressed", "false"); }
    }
    remember();
    showStatus();
    clearTimeout(job.timer);
    send(job);
  }

  document.addEventListener("click", function (event) {
    var btn = event.target.closest("button[data-mark]");
    if (!btn) { return; }
    var worker = parseInt(btn.closest("tr").dataset.worker, 10);
    want(worker, btn.dataset.mark, btn.getAttribute("aria-pressed") !== "true");
  });

  window.addEventListener("online", function () {
    Object.keys(jobs).forEach(function (key) { clearTimeout(jobs[key].timer); send(jobs[key]); });
  });

  try {  // marks a reload interrupted
    var unsaved = JSON.parse(localStorage.getItem(storeKey) || "{}");
    Object.keys(unsaved).forEach(function (key) {
      var parts = key.split(":");
      want(parseInt(parts[0], 10), parts[1], unsaved[key]);
    });
  } catch (e) { /* nothing stored */ }
})();
