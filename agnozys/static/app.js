// Small progressive enhancements; every page works without this file.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var text = button.getAttribute("data-copy");
  if (navigator.clipboard) {
    navigator.clipboard.writeText(text).then(function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "Copiado!";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  }
});
