// Progressive enhancement: dialogs, copy buttons, confirmations and the workspace switcher.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("dialog[data-open]").forEach((d) => d.showModal());
  document.addEventListener("click", (e) => {
    const open = e.target.closest("[data-open-dialog]");
    if (open) { document.querySelector(open.dataset.openDialog).showModal(); return; }
    const close = e.target.closest("[data-close-dialog]");
    if (close) { close.closest("dialog").close(); return; }
    const copy = e.target.closest("[data-copy]");
    if (copy) {
      const input = document.querySelector(copy.dataset.copy);
      input.select();
      navigator.clipboard?.writeText(input.value).then(() => { copy.textContent = "Copied"; },
        () => { document.execCommand("copy"); copy.textContent = "Copied"; });
    }
  });
  document.querySelectorAll("form[data-confirm]").forEach((f) =>
    f.addEventListener("submit", (e) => { if (!confirm(f.dataset.confirm)) e.preventDefault(); }));
  const sw = document.querySelector("[data-switcher] select");
  if (sw) sw.addEventListener("change", () => { location.href = "/app/" + encodeURIComponent(sw.value) + "/tokens"; });
});
