// Progressive enhancement of the client upload form: per-file progress bars and states, drag
// and drop, cancel, and a summary that says how many files arrived. Without JavaScript the form
// posts normally and the server answers with a receipt page. Words come from the page
// (#messages, in the page's language); staff pages have none and fall back to English.
(() => {
  const form = document.getElementById("upload");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  const input = document.getElementById("files");
  const queue = document.getElementById("queue");
  const receipt = document.getElementById("receipt");
  const summary = document.getElementById("summary");
  const drop = form.querySelector(".drop");
  const maxSize = Number(form.dataset.max);
  const maxFiles = Number(form.dataset.maxFiles);
  const words = (document.getElementById("messages") || { dataset: {} }).dataset;
  const english = {
    waiting: "waiting", tooLarge: "too large: this file is over the size limit", sending: "sending",
    checking: "checking", accepted: "received", refused: "refused", failed: "not sent",
    connectionLost: "connection lost; not sent", cancelled: "cancelled", cancel: "Cancel", progress: "Progress of {name}",
    summaryAll: "All files were received: {total}.",
    summarySome: "Files received: {received} of {total}; not received: {refused}. The reason is shown next to each file.",
    summaryNone: "No file was received. The reasons are shown next to each file.",
    receiptHeading: "Received, thank you", receiptKeep: "Keep this receipt: the SHA-256 fingerprint proves exactly which file arrived.",
    receiptFile: "File", receiptSize: "Size", receiptFingerprint: "SHA-256", receiptLine: "Receipt {id} · {when}",
    receiptPrint: "Print or save this receipt", timeLeft: "{percent}%, about {left} left",
    resuming: "connection lost; resuming…",
  };
  const say = (key, vars) => (words[key] || english[key]).replace(/\{(\w+)\}/g, (m, v) => (vars && v in vars ? String(vars[v]) : m));
  let files = [];
  // The receipt's time as the firm reads it (its time zone), in the page's language.
  function when(iso) {
    try {
      const zone = words.timezone || "UTC";
      const f = new Intl.DateTimeFormat(document.documentElement.lang || "en", { dateStyle: "medium", timeStyle: "short", timeZone: zone });
      return `${f.format(new Date(iso))} (${zone})`;
    } catch { return iso; }
  }

  // A size as the page's language writes it, as the server does: "1.4 MiB", "1,4 Mio".
  function size(n) {
    const fr = document.documentElement.lang === "fr";
    const units = fr ? ["o", "Kio", "Mio", "Gio", "Tio"] : ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = n;
    let unit = 0;
    while (value >= 1023.95 && unit < units.length - 1) { value /= 1024; unit += 1; }
    const tenths = Math.round(value * 10);
    const number = unit === 0 ? String(n) : tenths % 10 === 0 ? String(tenths / 10) : value.toFixed(1);
    return `${fr ? number.replace(".", ",") : number}${fr ? "\u00a0" : " "}${units[unit]}`;
  }

  const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };

  function setState(file, text, kind) {
    file.row.state.textContent = text;
    file.row.li.dataset.state = kind;
  }

  function show(list) {
    files = Array.from(list).slice(0, maxFiles);
    summary.hidden = true;
    queue.replaceChildren(...files.map((f) => {
      const li = el("li");
      const bar = el("progress"); bar.max = 1; bar.value = 0;
      bar.setAttribute("aria-label", say("progress", { name: f.name }));
      const state = el("span");
      li.append(el("span", f.name), bar, state);
      f.row = { bar, state, li };
      if (f.size > maxSize) setState(f, say("tooLarge"), "refused"); else setState(f, say("waiting"), "waiting");
      return li;
    }));
  }

  input.addEventListener("change", () => show(input.files));
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
  drop.addEventListener("drop", (e) => show(e.dataTransfer.files));

  // "about 3 min": units that read the same in English and French.
  const duration = (s) => (s < 90 ? `${Math.max(1, Math.round(s))} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`);

  // What the server said about a refused file, in plain words (its JSON problem detail).
  function reason(body) {
    try { return JSON.parse(body).detail || null; } catch { return null; }
  }

  // Resumable (tus): a cut, a closed laptop or a reload resumes where the server has the file.
  function sendResumable(file) {
    return new Promise((resolve) => {
      const started = Date.now();
      let upload;
      const cancel = el("button", say("cancel")); cancel.type = "button"; cancel.className = "link";
      cancel.addEventListener("click", () => { upload.abort(true); file.row.bar.hidden = true; setState(file, say("cancelled"), "refused"); resolve(null); });
      setState(file, say("sending"), "sending");
      file.row.state.append(" ", cancel);
      const status = (text) => { if (file.row.state.firstChild) file.row.state.firstChild.textContent = text; };
      upload = new window.tus.Upload(file, {
        endpoint: form.dataset.tus,
        metadata: { filename: file.name, filetype: file.type },
        // Refusals come back in the page's language.
        headers: { Accept: "application/json", "Accept-Language": document.documentElement.lang || "en" },
        chunkSize: 32 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000, 60000, 60000],
        removeFingerprintOnSuccess: true,
        onShouldRetry: (err) => {
          const s = err.originalResponse ? err.originalResponse.getStatus() : 0;
          const retry = s === 0 || s === 409 || s === 423 || s >= 500;
          if (retry) status(say("resuming"));
          return retry;
        },
        onProgress: (sent, total) => {
          file.row.bar.value = sent / total;
          if (sent === total) { setState(file, say("checking"), "checking"); return; }
          const rate = sent / Math.max(1, (Date.now() - started) / 1000);
          status(say("timeLeft", { percent: Math.floor((100 * sent) / total), left: duration((total - sent) / Math.max(rate, 1)) }));
        },
        onError: (err) => {
          file.row.bar.hidden = true;
          const body = err.originalResponse ? err.originalResponse.getBody() : "";
          setState(file, `${say("refused")}: ${reason(body) || say("failed")}`, "refused");
          resolve(null);
        },
        // The receipt; while another request still checks the file (503), ask again a while.
        onSuccess: () => fetchReceipt(0),
      });
      function fetchReceipt(attempt) {
        const xhr = new XMLHttpRequest();
        xhr.open("GET", upload.url);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("Accept-Language", document.documentElement.lang || "en");
        xhr.addEventListener("load", () => {
          let data = null;
          try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
          if (xhr.status === 503 && attempt < 300) {
            setTimeout(() => fetchReceipt(attempt + 1), 2000);
          } else if (xhr.status === 200 && data && data.receipt) {
            file.row.bar.value = 1;
            setState(file, say("accepted"), "accepted");
            resolve(data.receipt);
          } else {
            file.row.bar.hidden = true;
            setState(file, `${say("refused")}: ${reason(xhr.responseText) || say("failed")}`, "refused");
            resolve(null);
          }
        });
        xhr.addEventListener("error", () => { setState(file, say("connectionLost"), "refused"); resolve(null); });
        xhr.send();
      }
      upload.findPreviousUploads().then((previous) => {
        if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      });
    });
  }

  function send(file) {
    // Staff forms have no tus endpoint; browsers without the client post the form's way.
    if (form.dataset.tus && window.tus && window.tus.isSupported) return sendResumable(file);
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      const body = new FormData();
      // Staff forms carry their CSRF token, which the server reads before the file.
      const csrf = form.querySelector("input[name=csrf_token]");
      if (csrf) body.append("csrf_token", csrf.value);
      body.append("file", file, file.name);
      const cancel = el("button", say("cancel")); cancel.type = "button"; cancel.className = "link";
      cancel.addEventListener("click", () => xhr.abort());
      setState(file, say("sending"), "sending");
      file.row.state.append(" ", cancel);
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        file.row.bar.value = e.loaded / e.total;
        // Every byte is sent; the server is checking the file before it answers.
        if (e.loaded === e.total) setState(file, say("checking"), "checking");
      });
      xhr.addEventListener("load", () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
        if (xhr.status === 201 && data) {
          file.row.bar.value = 1;
          setState(file, say("accepted"), "accepted");
          resolve(data.receipt || { files: [] });
        } else {
          // A refused file's bar is not left full: the reason replaces it.
          file.row.bar.hidden = true;
          setState(file, `${say("refused")}: ${(data && data.detail) || say("failed")}`, "refused");
          resolve(null);
        }
      });
      xhr.addEventListener("error", () => { file.row.bar.hidden = true; setState(file, say("connectionLost"), "refused"); resolve(null); });
      xhr.addEventListener("abort", () => { file.row.bar.hidden = true; setState(file, say("cancelled"), "refused"); resolve(null); });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Accept-Language", document.documentElement.lang || "en");
      xhr.send(body);
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!files.length) show(input.files);
    const receipts = [];
    for (const f of files) {
      if (f.size > maxSize) continue;
      const r = await send(f);
      if (r) receipts.push(r);
    }
    // Staff uploads: show the matter page again once every file is in.
    if (form.dataset.reload !== undefined && receipts.length === files.length) { window.location.reload(); return; }
    const received = receipts.length;
    const total = files.length;
    summary.textContent = received === total ? say("summaryAll", { total })
      : received === 0 ? say("summaryNone") : say("summarySome", { received, total, refused: total - received });
    summary.className = received === total ? "notice" : "error";
    summary.hidden = false;
    summary.focus();
    if (!received) return;
    const table = el("table");
    const head = el("tr"); [say("receiptFile"), say("receiptSize"), say("receiptFingerprint")].forEach((h) => head.append(el("th", h)));
    table.append(head);
    receipts.forEach((r) => r.files.forEach((f) => {
      const hash = el("td"); const code = el("code", f.sha256); code.className = "hash"; hash.append(code);
      const tr = el("tr"); tr.append(el("td", f.name), el("td", size(f.size)), hash); table.append(tr);
    }));
    const lines = receipts.map((r) => el("p", say("receiptLine", { id: r.id, when: r.received_at ? when(r.received_at) : "" })));
    const print = el("button", say("receiptPrint")); print.type = "button"; print.className = "link";
    print.addEventListener("click", () => window.print());
    receipt.replaceChildren(el("h2", say("receiptHeading")), el("p", say("receiptKeep")), table, ...lines, print);
    receipt.hidden = false;
    form.reset();
    files = [];
  });
})();
