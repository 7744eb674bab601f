// Passkeys: registration on the account page, the second factor on the code page, and the
// passwordless sign-in on the login page. The server's JSON (webauthn-rs) carries binary
// fields as base64url; the browser's API wants ArrayBuffers, and back.
"use strict";
(function () {
  const b64 = {
    decode(s) {
      const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
      return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
    },
    encode(buf) {
      const bin = String.fromCharCode(...new Uint8Array(buf));
      return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
  };

  function creationOptions(json) {
    const pk = json.publicKey;
    pk.challenge = b64.decode(pk.challenge);
    pk.user.id = b64.decode(pk.user.id);
    (pk.excludeCredentials || []).forEach((c) => { c.id = b64.decode(c.id); });
    return { publicKey: pk };
  }

  function requestOptions(json) {
    const pk = json.publicKey;
    pk.challenge = b64.decode(pk.challenge);
    (pk.allowCredentials || []).forEach((c) => { c.id = b64.decode(c.id); });
    return { publicKey: pk };
  }

  function registration(cred) {
    return {
      id: cred.id, rawId: b64.encode(cred.rawId), type: cred.type, extensions: cred.getClientExtensionResults(),
      response: {
        attestationObject: b64.encode(cred.response.attestationObject),
        clientDataJSON: b64.encode(cred.response.clientDataJSON),
        transports: cred.response.getTransports ? cred.response.getTransports() : [],
      },
    };
  }

  function assertion(cred) {
    const r = cred.response;
    return {
      id: cred.id, rawId: b64.encode(cred.rawId), type: cred.type, extensions: cred.getClientExtensionResults(),
      response: {
        authenticatorData: b64.encode(r.authenticatorData), clientDataJSON: b64.encode(r.clientDataJSON),
        signature: b64.encode(r.signature), userHandle: r.userHandle ? b64.encode(r.userHandle) : null,
      },
    };
  }

  // The page's words in its language (data- attributes of #passkey-words); English without them.
  const words = (document.getElementById("passkey-words") || { dataset: {} }).dataset;
  const rejected = words.rejected || "The passkey was not accepted.";
  const defaultName = words.defaultName || "Passkey";

  async function post(url, csrf, body) {
    const resp = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body || {}),
    });
    const json = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(json.detail || rejected);
    return json;
  }

  function wire(button, run) {
    const status = document.getElementById(button.dataset.status);
    button.hidden = !window.PublicKeyCredential;
    button.addEventListener("click", async (ev) => {
      ev.preventDefault();
      if (status) status.textContent = "";
      try { await run(button.dataset.csrf); } catch (e) { if (status) status.textContent = e.message; }
    });
  }

  const add = document.getElementById("passkey-add");
  if (add) wire(add, async (csrf) => {
    const name = document.getElementById("passkey-name").value || defaultName;
    const password = document.getElementById("passkey-password").value;
    const options = creationOptions(await post("/account/passkeys/start", csrf, { password }));
    const cred = await navigator.credentials.create(options);
    await post("/account/passkeys/finish", csrf, { name, credential: registration(cred) });
    window.location.reload();
  });

  const second = document.getElementById("passkey-use");
  if (second) wire(second, async (csrf) => {
    const options = requestOptions(await post("/login/passkey/start", csrf));
    const cred = await navigator.credentials.get(options);
    const done = await post("/login/passkey/finish", csrf, { credential: assertion(cred) });
    window.location.assign(done.redirect);
  });

  const passwordless = document.getElementById("passkey-signin");
  if (passwordless) wire(passwordless, async (csrf) => {
    const email = document.querySelector("input[name=email]").value;
    const options = requestOptions(await post("/login/passwordless/start", csrf, { email }));
    const cred = await navigator.credentials.get(options);
    const done = await post("/login/passwordless/finish", csrf, { credential: assertion(cred) });
    window.location.assign(done.redirect);
  });
})();
