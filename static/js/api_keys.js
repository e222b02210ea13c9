// "Copier la clé": copies the key shown once to the clipboard, and says so.
document.querySelectorAll("[data-copy-target]").forEach(function (button) {
  button.addEventListener("click", function () {
    var input = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById("api-key-copied");
    input.select();
    var done = function () { status.textContent = "Clé copiée dans le presse-papiers."; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        status.textContent = "Copie impossible : sélectionnez la clé et copiez-la (Ctrl+C).";
      });
    } else {
      document.execCommand("copy");
      done();
    }
  });
});
