// The driver's page at the bus door and the factory gate.
//
// Scanning: "Scan tickets" opens the rear camera; each frame is read by jsQR (vendored, see
// static/vendor/jsqr). A ticket read is put in a queue kept in localStorage and sent to the
// server with a uid made here: a scan made offline waits ("3 waiting to upload") and goes when
// the network returns (the online event, and retries with back-off), and a scan sent twice
// (an answer lost on the way back) is answered the same and counted once by the server.
// The same code held in front of the camera is read once; shown again after it left the frame
// for a few seconds, it is read again, and the server flags it as a second scan.
//
// Arrival: the count of passengers handed over follows the ticked names.
(function () {
  "use strict";

  function recount(form) {
    form.querySelector(".handover-count").textContent = form.querySelectorAll('input[name="worker_id"]:checked').length;
  }
  document.querySelectorAll("form.arrival").forEach(function (form) {
    form.addEventListener("change", function () { recount(form); });
  });
  // A passenger marked boarded (or unmarked) on this page, by a tap or a scan: the hand-over
  // list of a stop not yet arrived at ticks them, as it would after a reload.
  document.addEventListener("dispatch:boarded", function (event) {
    var worker = event.detail.worker;
    document.querySelectorAll("form.arrival:not(.done)").forEach(function (form) {
      var box = form.querySelector('input[name="worker_id"][value="' + worker + '"]');
      if (!box) { return; }
      box.checked = event.detail.boarded;
      box.closest("label").classList.toggle("unmarked", !event.detail.boarded);
      var hint = form.querySelector(".unmarked-hint");  // said while anyone here is unmarked
      if (hint) { hint.hidden = !form.querySelector("label.unmarked"); }
      recount(form);
    });
  });

  var root = document.getElementById("scan");
  if (!root) { return; }
  var url = root.dataset.scanUrl;
  var storeKey = "dispatch-scans:" + url;
  var FORGET_MS = 3000;  // a code out of sight this long is a new scan when it comes back
  var TIMEOUT_MS = 10000;
  var openButton = document.getElementById("scan-open");
  var closeButton = document.getElementById("scan-close");
  var view = document.getElementById("scan-view");
  var video = document.getElementById("scan-video");
  var queueLabel = document.getElementById("scan-queue");
  var result = document.getElementById("scan-result");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var queue = load();
  var busy = false;
  var attempt = 0;
  var retryTimer = null;
  var stream = null;
  var running = false;
  var lastText = null;
  var lastSeen = 0;
  var audio = null;

  function load() {
    try {
      var stored = JSON.parse(localStorage.getItem(storeKey) || "[]");
      return Array.isArray(stored) ? stored : [];
    } catch (e) { return []; }
  }

  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(queue)); } catch (e) { /* private mode */ }
  }

  function showQueue() {
    queueLabel.hidden = !queue.length;
    queueLabel.textContent = root.dataset.msgQueued.replace("{n}", String(queue.length));
  }

  function newUid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function tone(frequency, seconds) {
    if (!audio) { return; }
    try {
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = frequency;
      gain.gain.value = 0.25;
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + seconds);
    } catch (e) { /* no sound on this phone */ }
  }

  function banner(text, kind) {
    result.hidden = false;
    result.className = "scan-result " + kind;
    result.textContent = text;
    if (kind === "bad") {
      if (navigator.vibrate) { navigator.vibrate([300, 120, 300, 120, 300]); }
      tone(220, 0.6);
    } else if (kind === "ok") {
      if (navigator.vibrate) { navigator.vibrate(80); }
      tone(1320, 0.12);
    }
  }

  function counts(values) {
    Object.keys(values || {}).forEach(function (name) {
      document.querySelectorAll('[data-count="' + name + '"]').forEach(function (cell) { cell.textContent = values[name]; });
    });
  }

  function showBoarded(workerId) {
    var row = document.querySelector('tr[data-worker="' + workerId + '"]');
    if (!row) { return; }
    row.classList.add("is-boarded");
    document.dispatchEvent(new CustomEvent("dispatch:boarded", { detail: { worker: String(workerId), boarded: true } }));
    row.classList.remove("is-no-show");
    var board = row.querySelector('button[data-mark="boarded"]');
    var absent = row.querySelector('button[data-mark="no_show"]');
    if (board) { board.setAttribute("aria-pressed", "true"); }
    if (absent) { absent.setAttribute("aria-pressed", "false"); }
  }

  function answered(data) {
    banner(data.message, data.outcome === "boarded" ? "ok" : "bad");
    if ((data.outcome === "boarded" || data.outcome === "duplicate") && data.worker_id) { showBoarded(data.worker_id); }
    counts(data.counts);
  }

  function drop(item) {
    queue = queue.filter(function (other) { return other.uid !== item.uid; });
    save();
    showQueue();
  }

  function retryLater(fresh) {
    attempt += 1;
    showQueue();
    if (fresh) { banner(root.dataset.msgOffline, "wait"); }
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, Math.min(30000, 1000 * Math.pow(2, attempt - 1)));
  }

  function flush() {
    showQueue();
    if (busy || !queue.length) { return; }
    busy = true;
    var item = queue[0];
    // a scan just read and stuck is news to the driver; a retry of an old one is not
    var fresh = queue.some(function (waiting) { return waiting.fresh; });
    queue.forEach(function (waiting) { waiting.fresh = false; });
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) { controller.abort(); } }, TIMEOUT_MS);
    fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      signal: controller ? controller.signal : undefined,
      body: JSON.stringify({ scan_uid: item.uid, text: item.text, scanned_at: item.at })
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { status: response.status, ok: response.ok, data: data };
      });
    }).then(function (answer) {
      clearTimeout(timer);
      busy = false;
      if (answer.ok && answer.data) {
        attempt = 0;
        drop(item);
        answered(answer.data);
        flush();
      } else if (answer.status === 408 || answer.status === 429 || answer.status >= 500) {
        retryLater(fresh);
      } else {  // refused for good (a bad scan, the bus stopped, the link revoked): say so, move on
        drop(item);
        banner(root.dataset.msgRefused + " " + ((answer.data && answer.data.message) || answer.status), "bad");
        flush();
      }
    }).catch(function () {
      clearTimeout(timer);
      busy = false;
      retryLater(fresh);
    });
  }

  function read(text) {
    queue.push({ uid: newUid(), text: text, at: Date.now(), fresh: true });
    save();
    banner(root.dataset.msgChecking, "wait");
    flush();
  }

  function frame() {
    if (!running) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      var scale = Math.min(1, 640 / video.videoWidth);
      var width = Math.round(video.videoWidth * scale);
      var height = Math.round(video.videoHeight * scale);
      canvas.width = width;
      canvas.height = height;
      context.drawImage(video, 0, 0, width, height);
      var code = window.jsQR(context.getImageData(0, 0, width, height).data, width, height, { inversionAttempts: "dontInvert" });
      var now = Date.now();
      if (code && code.data) {
        if (code.data !== lastText || now - lastSeen > FORGET_MS) { read(code.data); }
        lastText = code.data;
        lastSeen = now;
      }
    }
    setTimeout(frame, 200);  // five looks a second: enough for a ticket held up, light on a cheap phone
  }

  function open() {
    var Audio = window.AudioContext || window.webkitAudioContext;
    if (!audio && Audio) { audio = new Audio(); }  // made on the tap: phones allow sound after one
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.jsQR) {
      banner(root.dataset.msgNoCamera, "bad");
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (camera) {
        stream = camera;
        video.srcObject = camera;
        video.play().catch(function () { /* plays once visible */ });
        view.hidden = false;
        openButton.hidden = true;
        closeButton.hidden = false;
        running = true;
        lastText = null;
        frame();
      })
      .catch(function () { banner(root.dataset.msgNoCamera, "bad"); });
  }

  function close() {
    running = false;
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.srcObject = null;
    view.hidden = true;
    openButton.hidden = false;
    closeButton.hidden = true;
    lastText = null;
  }

  openButton.addEventListener("click", open);
  closeButton.addEventListener("click", close);
  window.addEventListener("online", function () { clearTimeout(retryTimer); attempt = 0; flush(); });
  queue.forEach(function (item) { item.fresh = false; });
  flush();  // scans a reload or a lost network left behind
})();
