// Progressive enhancement of the client upload form: per-file progress bars, drag and drop,
// cancel. Without JavaScript the form posts normally and the server answers with a receipt page.
(() => {
  const form = document.getElementById("upload");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  const input = document.getElementById("files");
  const queue = document.getElementById("queue");
  const receipt = document.getElementById("receipt");
  const drop = form.querySelector(".drop");
  const maxSize = Number(form.dataset.max);
  const maxFiles = Number(form.dataset.maxFiles);
  let files = [];

  const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };

  function show(list) {
    files = Array.from(list).slice(0, maxFiles);
    queue.replaceChildren(...files.map((f) => {
      const li = el("li");
      const bar = el("progress"); bar.max = 1; bar.value = 0;
      const state = el("span", f.size > maxSize ? "too large" : "ready");
      li.append(el("span", f.name), bar, state);
      f.row = { bar, state, li };
      return li;
    }));
  }

  input.addEventListener("change", () => show(input.files));
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
  drop.addEventListener("drop", (e) => show(e.dataTransfer.files));

  function send(file) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      const body = new FormData();
      // Staff forms carry their CSRF token, which the server reads before the file.
      const csrf = form.querySelector("input[name=csrf_token]");
      if (csrf) body.append("csrf_token", csrf.value);
      body.append("file", file, file.name);
      const cancel = el("button", "Cancel"); cancel.type = "button"; cancel.className = "link";
      cancel.addEventListener("click", () => xhr.abort());
      file.row.state.replaceChildren(cancel);
      xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) file.row.bar.value = e.loaded / e.total; });
      xhr.addEventListener("load", () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
        if (xhr.status === 201 && data) { file.row.state.textContent = "sent"; file.row.bar.value = 1; resolve(data.receipt || { files: [] }); }
        else { file.row.state.textContent = (data && data.detail) || "failed"; resolve(null); }
      });
      xhr.addEventListener("error", () => { file.row.state.textContent = "connection lost"; resolve(null); });
      xhr.addEventListener("abort", () => { file.row.state.textContent = "cancelled"; resolve(null); });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
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
    if (!receipts.length) return;
    const table = el("table");
    const head = el("tr"); ["File", "Size (bytes)", "SHA-256"].forEach((h) => head.append(el("th", h)));
    table.append(head);
    receipts.forEach((r) => r.files.forEach((f) => {
      const hash = el("td"); const code = el("code", f.sha256); code.className = "hash"; hash.append(code);
      const tr = el("tr"); tr.append(el("td", f.name), el("td", String(f.size)), hash); table.append(tr);
    }));
    receipt.replaceChildren(el("h2", "Received, thank you"), el("p", "Keep this receipt: the SHA-256 fingerprint proves exactly which file arrived."), table,
      el("p", "Receipt " + receipts.map((r) => r.id).join(", ")));
    receipt.hidden = false;
    form.reset();
    files = [];
  });
})();
