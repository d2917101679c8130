// The agent's work-order form: the chosen type's own fields (GET /api/work-order-types), shown
// under the type and sent as `fields` (agent.js asks orderFields()). Labels and choices in the
// agent's words; values go to the server as typed, which checks every one.
"use strict";
let orderTypes = {};

function orderFields() {
  const values = {};
  for (const input of document.querySelectorAll("#wo-fields [data-field]")) {
    if (input.value === "") continue;
    values[input.dataset.field] = input.dataset.kind === "cents" ? Number(input.value) : input.value;
  }
  return values;
}

function renderOrderFields() {
  const box = $("wo-fields");
  clear(box);
  const type = orderTypes[$("wo-category").value];
  for (const f of (type ? type.fields : [])) {
    const id = "wo-field-" + f.name;
    let input;
    if (f.kind === "choice") {
      input = el("select", {attrs: {id}}, [el("option", {text: "-", attrs: {value: ""}}),
        ...f.choices.map(c => el("option", {text: tr("choice." + c), attrs: {value: c}}))]);
    } else {
      const kind = {date: "date", cents: "number", digits: "tel"}[f.kind] || "text";
      input = el("input", {attrs: {id, type: kind, maxlength: "200"}});
      if (f.kind === "period") input.setAttribute("placeholder", "YYYY-MM");
    }
    input.dataset.field = f.name;
    input.dataset.kind = f.kind;
    if (f.required) input.required = true;
    box.appendChild(el("div", {class: "field"}, [el("label", {text: tr("field." + f.name), attrs: {for: id}}), input]));
  }
  box.hidden = !box.firstChild;
}

(async () => {
  try {
    for (const t of await api("/api/work-order-types")) orderTypes[t.code] = t;
  } catch (e) { return; }  // the form still works for types without fields
  $("wo-category").addEventListener("change", renderOrderFields);
  renderOrderFields();
})();
