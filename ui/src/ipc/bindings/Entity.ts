import type { EntityKind } from "./EntityKind";
import type { EntityStatus } from "./EntityStatus";
import type { TrustType } from "./TrustType";

export type Entity = {
  id: number;
  kind: EntityKind;
  trustType: TrustType | null;
  /** Display name; for individuals "First Last". */
  name: string;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  otherName: string | null;
  /** YYYY-MM-DD */
  dateOfBirth: string | null;
  dateOfDeath: string | null;
  abn: string | null;
  acn: string | null;
  /** e.g. "******789"; the full TFN never reaches the UI. */
  tfnMasked: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  postalAddress: string | null;
  status: EntityStatus;
  notes: string | null;
  groupIds: Array<number>;
};
