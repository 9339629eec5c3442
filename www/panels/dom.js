// The few DOM helpers the panels share.

/** The element with `id` (the page's ids are its contract with the panels and the tests). */
export const byId = (id) => document.getElementById(id);

/** A new `tag` element with `props` assigned and `children` appended (null ones skipped). */
export const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};
