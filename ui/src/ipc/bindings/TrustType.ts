export type TrustType =
  | "discretionary"
  | "unit"
  | "hybrid"
  | "testamentary"
  | "bareNominee"
  | "specialDisability"
  | "privateAncillaryFund"
  | "charitable"
  | "deceasedEstate"
  | "unspecified";
