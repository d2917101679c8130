// The wallboard's work-order figures: open orders past or near a deadline, and escalated ones
// (callcenter.orders.queue.deadline_counts), read from /api/work-orders/deadlines when the page
// loads and pushed as "wallboard_orders" after each run of the orders' timer. Text only.
"use strict";
(function () {
  const words = (key, fallback) => (typeof T === "object" && T[key]) || fallback;
  const main = document.getElementById("main") || document.querySelector("main");
  if (!main) return;
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.id = "orders-board";
  panel.setAttribute("aria-labelledby", "h-orders-board");
  const heading = document.createElement("h2");
  heading.id = "h-orders-board";
  heading.textContent = words("deadlines_board", "Work orders by deadline");
  panel.appendChild(heading);
  const list = document.createElement("p");
  list.className = "figures";
  const values = {};
  for (const [key, status] of [["overdue", "alert"], ["near", "warning"], ["escalated", "alert"]]) {
    const figure = document.createElement("span");
    figure.className = "figure";
    figure.dataset.status = status;
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = words("flag." + key, key);
    const value = document.createElement("span");
    value.className = "value";
    value.id = "orders-" + key;
    value.textContent = "-";
    figure.append(label, " ", value);
    list.appendChild(figure);
    values[key] = value;
  }
  const link = document.createElement("a");
  link.href = "/orders?flag=overdue";
  link.className = "btn btn-quiet";
  link.textContent = words("order_queue", "Order queue");
  panel.append(list, link);
  main.appendChild(panel);

  function show(counts) {
    for (const key of Object.keys(values)) values[key].textContent = String(counts && key in counts ? counts[key] : "-");
  }
  fetch("/api/work-orders/deadlines", {credentials: "same-origin"})
    .then(reply => (reply.ok ? reply.json() : null)).then(show).catch(() => show(null));
  if (typeof socket === "object" && socket) socket.on("wallboard_orders", show);
})();
