// The flow explorer: a device run's page polls the token endpoint by itself, at the interval the
// provider asked for (the "Next step" form, submitted after that many seconds). Without this script
// the person presses "Next step" to poll.
(function () {
  "use strict";
  var form = document.querySelector("form[data-auto-poll]");
  if (!form) {
    return;
  }
  var seconds = parseInt(form.getAttribute("data-auto-poll"), 10);
  if (!(seconds > 0)) {
    seconds = 5;
  }
  window.setTimeout(function () {
    form.submit();
  }, seconds * 1000);
})();
