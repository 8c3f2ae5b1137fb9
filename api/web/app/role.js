// What the signed-in key's role may not do, said where the action would be.

import { session } from "./api.js";
import { h } from "./dom.js";

/** "Your key (alice) is a viewer of workspace sales: uploading a scenario needs the planner
 *  role." in place of a form or button the role cannot use. */
export function viewerNote(what) {
  const me = session.me || { name: "this key", role: "viewer", workspace: "?" };
  return h("p.note.role-note", { role: "note" }, `Your key (${me.name}) is a ${me.role} of `
    + `workspace ${me.workspace}: ${what} needs the planner role.`);
}
