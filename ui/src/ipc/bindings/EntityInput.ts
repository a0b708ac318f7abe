import type { EntityKind } from "./EntityKind";
import type { EntityStatus } from "./EntityStatus";
import type { TrustType } from "./TrustType";

export type EntityInput = {
  kind: EntityKind;
  trustType: TrustType | null;
  /** Ignored for individuals (built from first/last). */
  name: string;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  otherName: string | null;
  dateOfBirth: string | null;
  dateOfDeath: string | null;
  abn: string | null;
  acn: string | null;
  /** null = keep the stored TFN unchanged; "" = clear it; 9 digits = set. */
  tfn: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  postalAddress: string | null;
  /** null = the kind default. */
  status: EntityStatus | null;
  notes: string | null;
};
