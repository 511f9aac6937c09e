// Sortable report tables: click a column header to sort its rows in place.
// Without JavaScript the header links sort on the server (?sort=&order=).
// The totals row lives in <tfoot> and never moves.

function cellValue(row, index, type) {
  const cell = row.cells[index];
  const raw = cell ? (cell.dataset.value ?? cell.textContent.trim()) : "";
  if (type === "number") {
    const n = Number.parseFloat(raw);
    return Number.isNaN(n) ? -Infinity : n;
  }
  return raw;
}

function sortTable(table, th) {
  const index = Array.from(th.parentElement.children).indexOf(th);
  const type = th.dataset.type || "text";
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  const body = table.tBodies[0];
  const collator = new Intl.Collator("zh-CN", { numeric: true });
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a, index, type);
    const y = cellValue(b, index, type);
    const order = type === "number" ? x - y : collator.compare(x, y);
    return ascending ? order : -order;
  });
  for (const header of th.parentElement.children) header.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  body.append(...rows);
}

for (const table of document.querySelectorAll("table.sortable")) {
  const head = table.tHead;
  if (!head || !table.tBodies.length) continue;
  head.addEventListener("click", (event) => {
    const th = event.target.closest("th");
    if (!th || !head.contains(th)) return;
    event.preventDefault();
    sortTable(table, th);
  });
}
