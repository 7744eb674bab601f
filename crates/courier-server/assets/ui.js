// Staff UI enhancements, loaded as a file (the CSP forbids inline script):
// copy buttons (<button data-copy="input-id" data-copied="what it says once copied, in the
// page's language">), print buttons (<button data-print>) and confirmation of destructive
// forms (<form data-confirm="question">).
document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const input = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    button.textContent = button.dataset.copied || "Copied";
  });
});
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
document.querySelectorAll("button[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
