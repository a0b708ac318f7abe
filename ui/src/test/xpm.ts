import { fireEvent, waitFor, within } from "@testing-library/react";
import { expect } from "vitest";
import { MOCK_TOTP_CODE, MockBackend } from "../ipc/mockBackend";

/** Picks an option of a Mantine Select (its options render in a portal listbox). */
export async function chooseOption(input: HTMLElement, option: string) {
  fireEvent.click(input);
  await waitFor(() => expect(input).toHaveAttribute("aria-controls"));
  const listbox = document.getElementById(input.getAttribute("aria-controls") ?? "");
  if (!listbox) throw new Error("the select opened no listbox");
  fireEvent.click(within(listbox).getByRole("option", { name: option, hidden: true }));
  await waitFor(() => expect(input).toHaveValue(option));
}

/**
 * A connected mock whose session passed the two-factor prompt, with the demo's first group
 * linked to the catalog's second XPM group (the mock's pulls and reconciliations work on it).
 */
export async function linkedGroup() {
  const backend = new MockBackend({ mfaEnrolled: true });
  await backend.verifySession(MOCK_TOTP_CODE);
  await backend.xeroConnect();
  await backend.xeroWait();
  const group = (await backend.listGroups())[0]!;
  const xpm = (await backend.xpmCatalog({ search: null, linked: null })).rows[1]!;
  await backend.xpmLinkExisting(xpm.xpmUuid, group.id);
  return { backend, group };
}
