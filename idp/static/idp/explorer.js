// The flow explorer, made easier with a script (everything works without it):
// - the start page shows the selected flow's description and only the breaks that apply to it;
// - a run page draws the arrow a step just added (no animation for reduced motion), focuses it and
//   announces it in a live region;
// - "Play the remaining steps" submits the "Next step" form every 1.5 s until the run ends or a
//   message is an error (the state survives each page load in sessionStorage; the focus stays on
//   Pause meanwhile);
// - a device run's page polls the token endpoint by itself, at the interval the provider asked for;
// - the exports get "Copy" buttons.
(function () {
  "use strict";

  var PLAY_DELAY = 1500; // milliseconds between two steps played
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // --- The start page ---------------------------------------------------------------------------

  function startPage() {
    var select = document.querySelector(".explorer-start select[name=flow]");
    if (!select) {
      return;
    }
    var descriptions = document.getElementById("flow-descriptions");
    var breaks = document.querySelectorAll(".break-choice[data-flows]");
    var options = document.querySelector("details.options[data-flows]"); // the authorization request's
    function fits(node, flow) {
      return node.getAttribute("data-flows").split(" ").indexOf(flow) !== -1;
    }
    function show() {
      var flow = select.value;
      if (descriptions) {
        descriptions.classList.add("one-flow");
        descriptions.querySelectorAll("li[data-flow]").forEach(function (item) {
          item.hidden = item.getAttribute("data-flow") !== flow;
        });
        select.setAttribute("aria-describedby", "flow-description-" + flow);
      }
      if (options) {
        options.hidden = !fits(options, flow);
      }
      var shown = 0;
      breaks.forEach(function (choice) {
        var radio = choice.querySelector("input[type=radio]");
        choice.hidden = !fits(choice, flow);
        shown += !choice.hidden && radio && radio.value ? 1 : 0;
        if (choice.hidden && radio && radio.checked) {
          radio.checked = false;
          var nothing = document.querySelector(".break-choice input[type=radio][value='']");
          if (nothing) {
            nothing.checked = true;
          }
        }
      });
      var fieldset = breaks.length ? breaks[0].closest("fieldset") : null;
      if (fieldset) {
        fieldset.hidden = shown === 0; // no step of this flow to break
      }
    }
    select.addEventListener("change", show);
    show();
  }

  // --- A run page: the arrow just added ---------------------------------------------------------

  function announce(text) {
    var live = document.getElementById("explorer-live");
    if (live) {
      // Set after the page has settled, so that screen readers take it as a change.
      window.setTimeout(function () {
        live.textContent = text;
      }, 150);
    }
  }

  function newestMessage() {
    var messages = document.querySelectorAll("ol.sequence > li.message");
    return messages.length ? messages[messages.length - 1] : null;
  }

  function describe(message) {
    var title = message.querySelector(".message-title");
    var status = message.querySelector(".badge.status");
    var route = message.querySelector(".route");
    return [title, status, route]
      .filter(Boolean)
      .map(function (node) {
        return node.textContent.replace(/\s+/g, " ").trim();
      })
      .join(", ");
  }

  function whenLoaded(callback) {
    if (document.readyState === "complete") {
      window.setTimeout(callback, 0);
    } else {
      window.addEventListener("load", function () {
        window.setTimeout(callback, 0);
      });
    }
  }

  // The arrow the step just sent added (the redirect's #message-N is the newest), marked "is-new".
  function markAddedMessage() {
    var match = /^#message-(\d+)$/.exec(window.location.hash);
    var message = match && document.getElementById("message-" + match[1]);
    if (!message || message !== newestMessage()) {
      return null;
    }
    message.classList.add("is-new");
    message.addEventListener("animationend", function () {
      message.classList.add("drawn");
    });
    return message;
  }

  // Shows the new arrow and moves the focus to it (or, while playing, to Pause: the live region says
  // what was added). Once loaded: the browser's own move to the #fragment would take the focus back.
  function showAdded(message, focus) {
    whenLoaded(function () {
      var summary = message.querySelector("summary");
      (focus || summary).focus({ preventScroll: true });
      summary.scrollIntoView({ block: "center", behavior: reducedMotion ? "auto" : "smooth" });
    });
  }

  // --- A run page: Play, and the device's polling -----------------------------------------------

  function storage() {
    try {
      return window.sessionStorage;
    } catch (error) {
      return null; // storage refused: Play sends one step per press
    }
  }

  // Signing in on another tab (the device page) rotates the CSRF token this page's forms carry: take
  // the current one from the run page as it is now, then submit.
  function submitWithFreshToken(form) {
    if (!window.fetch || !window.DOMParser) {
      form.submit();
      return;
    }
    window
      .fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .then(function (text) {
        var page = new DOMParser().parseFromString(text, "text/html");
        var fresh = page.querySelector("form[data-next-form] input[name=csrfmiddlewaretoken]");
        var input = form.querySelector("input[name=csrfmiddlewaretoken]");
        if (fresh && input) {
          input.value = fresh.value;
        }
      })
      .catch(function () {
        return null; // the submit below answers for itself
      })
      .then(function () {
        form.submit();
      });
  }

  function runPage() {
    var added = markAddedMessage();
    var nextForm = document.querySelector("form[data-next-form]");
    var store = storage();
    var key = "idp-explorer-play:" + window.location.pathname;
    var playing = !!(store && store.getItem(key) === "1");
    var said = added ? "Message " + describe(added) + "." : "";

    function stop(reason) {
      if (store) {
        store.removeItem(key);
      }
      playing = false;
      announce((said ? said + " " : "") + reason);
    }

    var newest = newestMessage();
    var failed = !!newest && parseInt(newest.getAttribute("data-status"), 10) >= 400;
    var failure = "Play stopped: the provider answered with an error. Open the message to see why.";

    if (!nextForm) {
      if (playing) {
        stop(failed ? failure : "Play stopped: every step is done.");
      } else if (said) {
        announce(said);
      }
      if (added) {
        showAdded(added, null);
      }
      return;
    }

    // A device waiting for the person: poll at the interval the provider asked for (Play waits too).
    var polling = nextForm.hasAttribute("data-auto-poll");
    if (polling) {
      var seconds = parseInt(nextForm.getAttribute("data-auto-poll"), 10);
      window.setTimeout(function () {
        submitWithFreshToken(nextForm);
      }, (seconds > 0 ? seconds : 5) * 1000);
    }

    var timer = null;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "play";
    function label() {
      button.textContent = playing ? "Pause" : "Play the remaining steps";
    }
    button.addEventListener("click", function () {
      if (playing) {
        window.clearTimeout(timer);
        stop("Play paused.");
        label();
        return;
      }
      playing = true;
      if (store) {
        store.setItem(key, "1");
      }
      label();
      if (polling) {
        announce("Playing: the steps follow once the device is approved.");
      } else {
        nextForm.submit();
      }
    });
    var holder = document.createElement("div");
    holder.className = "play-control";
    holder.appendChild(button);
    nextForm.parentNode.insertBefore(holder, nextForm.nextSibling);

    if (playing && failed && !polling) {
      stop(failure);
    } else if (playing) {
      announce((said ? said + " " : "") + "Playing: the next step follows.");
      if (!polling) {
        timer = window.setTimeout(function () {
          nextForm.submit();
        }, PLAY_DELAY);
      }
    } else if (said) {
      announce(said);
    }
    label();
    if (added) {
      showAdded(added, playing ? button : null);
    }
  }

  // --- Copy buttons for the exports -------------------------------------------------------------

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyButtons() {
    document.querySelectorAll("pre.export-text").forEach(function (pre) {
      var before = pre.previousElementSibling;
      var row = before && before.classList.contains("download") ? before : document.createElement("p");
      row.classList.add("copy-row");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Copy";
      if (pre.getAttribute("data-copy")) {
        button.setAttribute("aria-label", pre.getAttribute("data-copy"));
      }
      var status = document.createElement("span");
      status.className = "copy-status";
      status.setAttribute("role", "status");
      row.appendChild(button);
      row.appendChild(status);
      if (row !== before) {
        pre.parentNode.insertBefore(row, pre);
      }
      button.addEventListener("click", function () {
        status.textContent = "";
        var fallback = function () {
          selectText(pre);
          status.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
        };
        if (!navigator.clipboard || !navigator.clipboard.writeText) {
          fallback();
          return;
        }
        navigator.clipboard.writeText(pre.textContent).then(function () {
          status.textContent = "Copied";
        }, fallback);
      });
    });
  }

  startPage();
  if (document.querySelector("ol.sequence, .run-actions")) {
    runPage();
  }
  copyButtons();
})();
