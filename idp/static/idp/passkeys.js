/* Passkeys: registration on the account security page, and sign-in (second factor, passwordless,
   browser autofill). Progressive enhancement: every control starts hidden and is shown only where the
   browser supports WebAuthn; the pages work without this file for every other way to sign in. */
(function () {
  "use strict";

  // An IP address can never be a relying party ID: there, passkeys stay hidden like in old browsers.
  var onIpAddress = /^[0-9.]+$/.test(location.hostname) || location.hostname.indexOf(":") !== -1 ||
    location.hostname.charAt(0) === "[";
  var supported = typeof window.PublicKeyCredential === "function" && !onIpAddress &&
    !!(navigator.credentials && navigator.credentials.create && navigator.credentials.get);

  function toBytes(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  // A credential as the server reads it (WebAuthn's JSON form, binary values in base64url): a new one
  // (registration) carries its attestation and transports, an assertion (sign-in) its authenticator
  // data, signature and user handle.
  function credentialJSON(credential) {
    var response = credential.response;
    var json = { clientDataJSON: toBase64url(response.clientDataJSON) };
    if (response.attestationObject) {
      json.attestationObject = toBase64url(response.attestationObject);
      json.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.authenticatorData = toBase64url(response.authenticatorData);
      json.signature = toBase64url(response.signature);
      json.userHandle = toBase64url(response.userHandle);
    }
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: json,
      clientExtensionResults: credential.getClientExtensionResults()
    };
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          if (data.redirect) { window.location.assign(data.redirect); }
          var error = new Error(data.message || "The server could not be reached. Try again.");
          error.fromServer = true;
          throw error;
        }
        return data;
      });
    });
  }

  function messageFor(error, root) {
    if (error && error.fromServer) { return error.message; }
    var name = error && error.name;
    var text = root.dataset;
    if (name === "NotAllowedError") { return text.msgCancelled; }
    if (name === "InvalidStateError") { return text.msgExists; }
    if (name === "NotSupportedError") { return text.msgUnsupported; }
    if (name === "SecurityError") { return text.msgInsecure; }
    if (name === "AbortError") { return ""; }
    return text.msgFailed;
  }

  function showStatus(root, message) {
    var status = root.querySelector("[data-passkey-status]");
    if (!status || !message) { return; }
    status.textContent = message;
    status.hidden = false;
  }

  function csrfOf(root) {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function reveal(root) {
    root.querySelectorAll("[data-passkey-needs-js]").forEach(function (element) { element.hidden = false; });
    root.querySelectorAll("[data-passkey-no-js]").forEach(function (element) { element.hidden = true; });
  }

  function setUpRegistration(root) {
    var form = root.querySelector("form[data-passkey-register]");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var name = form.querySelector("input[name=name]");
      var next = form.querySelector("input[name=next]");
      button.disabled = true;
      post(form.dataset.beginUrl, csrfOf(root), { next: next ? next.value : "" })
        .then(function (options) { return navigator.credentials.create({ publicKey: creationOptions(options) }); })
        .then(function (credential) {
          return post(form.dataset.finishUrl, csrfOf(root), {
            credential: credentialJSON(credential), name: name ? name.value : "", next: next ? next.value : ""
          });
        })
        .then(function (data) { window.location.assign(data.redirect); })
        .catch(function (error) { showStatus(root, messageFor(error, root)); })
        .then(function () { button.disabled = false; });
    });
  }

  var pendingConditional = null;
  var pendingBegin = null;

  function signIn(root, options) {
    var mode = root.dataset.passkeyMode;
    var next = root.querySelector("input[name=next]");
    var begin = post(root.dataset.beginUrl, csrfOf(root), { mode: mode });
    if (options.conditional) {
      pendingBegin = begin.catch(function () {}).then(function () { pendingBegin = null; });
    }
    return begin
      .then(function (json) {
        var request = { publicKey: requestOptions(json) };
        if (options.conditional) {
          pendingConditional = new AbortController();
          request.mediation = "conditional";
          request.signal = pendingConditional.signal;
        }
        return navigator.credentials.get(request);
      })
      .then(function (credential) {
        return post(root.dataset.finishUrl, csrfOf(root), {
          mode: mode, credential: credentialJSON(credential), next: next ? next.value : ""
        });
      })
      .then(function (data) { window.location.assign(data.redirect); });
  }

  // The answer to the autofill request stores a challenge in the session: a password sent before it
  // arrives waits for it, so that the sign-in's new session cookie is the last one the browser gets.
  function holdSubmitsWhileBeginning(form) {
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      if (!pendingBegin) { return; }
      event.preventDefault();
      pendingBegin.then(function () { form.submit(); });
    });
  }

  function setUpSignIn(root) {
    var button = root.querySelector("button[data-passkey-sign-in]");
    if (button) {
      button.addEventListener("click", function () {
        if (pendingConditional) { pendingConditional.abort(); pendingConditional = null; }
        button.disabled = true;
        signIn(root, { conditional: false })
          .catch(function (error) { showStatus(root, messageFor(error, root)); })
          .then(function () { button.disabled = false; });
      });
    }
    if (root.dataset.passkeyAutofill === "true" && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        var username = document.querySelector("input[autocomplete='username']");
        if (!available || !username) { return; }
        username.setAttribute("autocomplete", "username webauthn");
        holdSubmitsWhileBeginning(username.form);
        // Autofill waits in the background: a person who types a password instead sees no error.
        signIn(root, { conditional: true }).catch(function () {});
      });
    }
  }

  document.querySelectorAll("[data-passkeys]").forEach(function (root) {
    if (!supported) {
      var why = onIpAddress ? root.dataset.msgInsecure : root.dataset.msgUnsupported;
      showStatus(root, root.dataset.passkeyQuiet === "true" ? "" : why);
      return;
    }
    reveal(root);
    setUpRegistration(root);
    if (root.dataset.beginUrl) { setUpSignIn(root); }
  });
})();
