import {
  Alert,
  Button,
  Group,
  Modal,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { useEffect, useState } from "react";
import {
  ENTITY_KIND_LABEL,
  ENTITY_KINDS,
  ENTITY_STATUS_LABEL,
  isValidIsoDate,
  TRUST_TYPE_LABEL,
  TRUST_TYPES_SORTED,
} from "../common/labels";
import { notifySuccess } from "../common/notify";
import type { Entity } from "../ipc/bindings/Entity";
import type { EntityInput } from "../ipc/bindings/EntityInput";
import type { EntityKind } from "../ipc/bindings/EntityKind";
import type { EntityStatus } from "../ipc/bindings/EntityStatus";
import type { TrustType } from "../ipc/bindings/TrustType";
import { errorHint, errorMessage } from "../ipc/IpcError";
import { useSaveEntity } from "./api";

type FormValues = {
  kind: EntityKind;
  trustType: TrustType | null;
  name: string;
  firstName: string;
  middleName: string;
  lastName: string;
  otherName: string;
  dateOfBirth: string;
  dateOfDeath: string;
  abn: string;
  acn: string;
  tfn: string;
  email: string;
  phone: string;
  address: string;
  postalAddress: string;
  status: EntityStatus | null;
  notes: string;
};

function initialValues(entity: Entity | null, kind: EntityKind): FormValues {
  return {
    kind: entity?.kind ?? kind,
    trustType: entity?.trustType ?? null,
    name: entity?.name ?? "",
    firstName: entity?.firstName ?? "",
    middleName: entity?.middleName ?? "",
    lastName: entity?.lastName ?? "",
    otherName: entity?.otherName ?? "",
    dateOfBirth: entity?.dateOfBirth ?? "",
    dateOfDeath: entity?.dateOfDeath ?? "",
    abn: entity?.abn ?? "",
    acn: entity?.acn ?? "",
    tfn: "",
    email: entity?.email ?? "",
    phone: entity?.phone ?? "",
    address: entity?.address ?? "",
    postalAddress: entity?.postalAddress ?? "",
    status: entity ? entity.status : null,
    notes: entity?.notes ?? "",
  };
}

const opt = (s: string): string | null => (s.trim() === "" ? null : s.trim());

/** Builds the IPC input. TFN: empty = keep (null), clear requested = "", otherwise the digits. */
export function toEntityInput(v: FormValues, clearTfn: boolean): EntityInput {
  const individual = v.kind === "individual";
  return {
    kind: v.kind,
    trustType: v.kind === "trust" ? v.trustType : null,
    name: individual ? "" : v.name.trim(),
    firstName: individual ? opt(v.firstName) : null,
    middleName: individual ? opt(v.middleName) : null,
    lastName: individual ? opt(v.lastName) : null,
    otherName: individual ? opt(v.otherName) : null,
    dateOfBirth: individual ? opt(v.dateOfBirth) : null,
    dateOfDeath: individual ? opt(v.dateOfDeath) : null,
    abn: individual ? null : opt(v.abn),
    acn: v.kind === "company" ? opt(v.acn) : null,
    tfn: clearTfn ? "" : opt(v.tfn),
    email: opt(v.email),
    phone: opt(v.phone),
    address: opt(v.address),
    postalAddress: opt(v.postalAddress),
    status: v.status,
    notes: opt(v.notes),
  };
}

/** Checks done before calling the backend (required fields and date shapes only). */
function localErrors(v: FormValues): Partial<Record<keyof FormValues, string>> {
  const errors: Partial<Record<keyof FormValues, string>> = {};
  if (v.kind === "individual") {
    if (v.firstName.trim() === "") errors.firstName = "First name is required.";
    if (v.lastName.trim() === "") errors.lastName = "Last name is required.";
    for (const k of ["dateOfBirth", "dateOfDeath"] as const) {
      if (v[k].trim() !== "" && !isValidIsoDate(v[k].trim())) errors[k] = "Use YYYY-MM-DD.";
    }
  } else if (v.name.trim() === "") {
    errors.name = "Name is required.";
  }
  if (v.kind === "trust" && !v.trustType) errors.trustType = "Choose the trust type.";
  return errors;
}

export function EntityFormModal(props: {
  opened: boolean;
  /** null = create. */
  entity: Entity | null;
  /** Groups a new entity joins. */
  groupIds: number[];
  onClose: () => void;
}) {
  const { opened, entity } = props;
  const save = useSaveEntity();
  const [values, setValues] = useState<FormValues>(() => initialValues(entity, "individual"));
  const [clearTfn, setClearTfn] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<keyof FormValues, string>>>({});

  useEffect(() => {
    if (opened) {
      setValues(initialValues(entity, "individual"));
      setClearTfn(false);
      setErrors({});
      save.reset();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reset only when (re)opened
  }, [opened, entity]);

  const set = <K extends keyof FormValues>(key: K, value: FormValues[K]) =>
    setValues((v) => ({ ...v, [key]: value }));
  const text = (
    key: keyof FormValues,
    label: string,
    extra?: { placeholder?: string; required?: boolean },
  ) => (
    <TextInput
      label={label}
      required={extra?.required}
      placeholder={extra?.placeholder}
      value={(values[key] as string | null) ?? ""}
      onChange={(e) => set(key, e.currentTarget.value as never)}
      error={errors[key]}
      data-testid={`entity-${key}`}
    />
  );

  const submit = () => {
    const local = localErrors(values);
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    save.mutate(
      { id: entity?.id ?? null, input: toEntityInput(values, clearTfn), groupIds: props.groupIds },
      {
        onSuccess: (saved) => {
          notifySuccess(`${entity ? "Saved" : "Created"} ${saved.name}.`);
          props.onClose();
        },
      },
    );
  };

  const k = values.kind;
  const tfnPlaceholder = entity?.tfnMasked
    ? `${entity.tfnMasked} (leave empty to keep)`
    : "9 digits";

  return (
    <Modal
      opened={opened}
      onClose={props.onClose}
      title={entity ? `Edit ${entity.name}` : "Create entity"}
      size="xl"
      centered
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <Stack gap="sm">
          {!entity && (
            <SegmentedControl
              value={k}
              onChange={(v) => set("kind", v as EntityKind)}
              data={ENTITY_KINDS.map((kind) => ({ value: kind, label: ENTITY_KIND_LABEL[kind] }))}
              data-testid="entity-kind"
            />
          )}
          {k === "individual" ? (
            <SimpleGrid cols={2} spacing="sm" verticalSpacing="xs">
              {text("firstName", "First name", { required: true })}
              {text("middleName", "Middle name")}
              {text("lastName", "Last name", { required: true })}
              {text("otherName", "Other name (known as)")}
              {text("dateOfBirth", "Date of birth", { placeholder: "YYYY-MM-DD" })}
              {text("dateOfDeath", "Date of death", { placeholder: "YYYY-MM-DD" })}
            </SimpleGrid>
          ) : (
            <SimpleGrid cols={2} spacing="sm" verticalSpacing="xs">
              <div style={{ gridColumn: "span 2" }}>{text("name", "Name", { required: true })}</div>
              {k === "trust" && (
                <Select
                  label="Trust type"
                  required
                  placeholder="Choose…"
                  data={TRUST_TYPES_SORTED.map((t) => ({ value: t, label: TRUST_TYPE_LABEL[t] }))}
                  value={values.trustType}
                  onChange={(v) => set("trustType", v as TrustType | null)}
                  error={errors.trustType}
                  data-testid="entity-trustType"
                />
              )}
              {k === "company" && text("acn", "ACN", { placeholder: "9 digits" })}
              {text("abn", "ABN", { placeholder: "11 digits" })}
            </SimpleGrid>
          )}
          <SimpleGrid cols={2} spacing="sm" verticalSpacing="xs">
            <div>
              <TextInput
                label="TFN"
                placeholder={clearTfn ? "Will be cleared" : tfnPlaceholder}
                value={values.tfn}
                disabled={clearTfn}
                autoComplete="off"
                onChange={(e) => set("tfn", e.currentTarget.value)}
                description="Write-only: the stored TFN is never shown."
                data-testid="entity-tfn"
              />
              {entity?.tfnMasked && (
                <Button
                  variant="subtle"
                  size="compact-xs"
                  color={clearTfn ? "gray" : "red"}
                  mt={4}
                  onClick={() => {
                    setClearTfn((c) => !c);
                    set("tfn", "");
                  }}
                  data-testid="entity-clear-tfn"
                >
                  {clearTfn ? "Keep the stored TFN" : "Clear TFN"}
                </Button>
              )}
            </div>
            <Select
              label="Status"
              data={[
                { value: "", label: "Default for the kind" },
                ...Object.entries(ENTITY_STATUS_LABEL).map(([value, label]) => ({ value, label })),
              ]}
              value={values.status ?? ""}
              onChange={(v) => set("status", v ? (v as EntityStatus) : null)}
              allowDeselect={false}
              data-testid="entity-status"
            />
            {text("email", "Email")}
            {text("phone", "Phone")}
            {text("address", "Address")}
            {text("postalAddress", "Postal address")}
          </SimpleGrid>
          <Textarea
            label="Notes"
            autosize
            minRows={2}
            maxRows={6}
            value={values.notes}
            onChange={(e) => set("notes", e.currentTarget.value)}
          />
          {save.isError && (
            <Alert color="red" role="alert" title="Not saved" data-testid="entity-form-error">
              <Text size="sm">{errorMessage(save.error)}</Text>
              <Text size="xs" c="dimmed">
                {errorHint(save.error)}
              </Text>
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose} disabled={save.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending} data-testid="entity-submit">
              {entity ? "Save" : "Create entity"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
