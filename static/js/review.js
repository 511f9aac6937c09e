// Review pages: "select all" for bulk review, and choosing "改为" when a corrected value is typed.
// Everything works without this script; it only saves taps.

for (const box of document.querySelectorAll("input[data-select-all]")) {
  const name = box.dataset.selectAll;
  box.addEventListener("change", () => {
    for (const item of document.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
      item.checked = box.checked;
    }
  });
}

for (const input of document.querySelectorAll("[data-custom-for]")) {
  const pick = () => {
    const radio = document.querySelector(`input[type=radio][name="${input.dataset.customFor}"][value="custom"]`);
    if (radio) radio.checked = true;
  };
  input.addEventListener("input", pick);
  input.addEventListener("change", pick);
}
