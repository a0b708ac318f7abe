import {
  Alert,
  Button,
  Group,
  Modal,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useEffect, useState } from "react";
import { isValidIsoDate, RELATIONSHIP_KIND_LABEL } from "../common/labels";
import { notifySuccess } from "../common/notify";
import type { Entity } from "../ipc/bindings/Entity";
import type { Relationship } from "../ipc/bindings/Relationship";
import type { RelationshipInput } from "../ipc/bindings/RelationshipInput";
import type { RelationshipKind } from "../ipc/bindings/RelationshipKind";
import { errorHint, errorMessage } from "../ipc/IpcError";
import { useSaveRelationship } from "./api";

type Values = {
  kind: RelationshipKind;
  fromId: string | null;
  toId: string | null;
  shares: number | string;
  shareClass: string;
  percentage: number | string;
  startDate: string;
  endDate: string;
  label: string;
};

export const hasShares = (k: RelationshipKind) => k === "shareholder" || k === "unitholder";
export const hasPercentage = (k: RelationshipKind) => hasShares(k) || k === "partner";

function initial(r: Relationship | null): Values {
  return {
    kind: r?.kind ?? "director",
    fromId: r ? String(r.fromId) : null,
    toId: r ? String(r.toId) : null,
    shares: r?.shares ?? "",
    shareClass: r?.shareClass ?? "",
    percentage: r?.percentage ?? "",
    startDate: r?.startDate ?? "",
    endDate: r?.endDate ?? "",
    label: r?.label ?? "",
  };
}

const num = (v: number | string): number | null =>
  typeof v === "number" ? v : v.trim() === "" ? null : Number(v);
const opt = (s: string): string | null => (s.trim() === "" ? null : s.trim());

export function RelationshipFormModal(props: {
  opened: boolean;
  relationship: Relationship | null;
  entities: Entity[];
  onClose: () => void;
}) {
  const { opened, relationship } = props;
  const save = useSaveRelationship();
  const [v, setV] = useState<Values>(() => initial(relationship));
  const [errors, setErrors] = useState<Partial<Record<keyof Values, string>>>({});

  useEffect(() => {
    if (opened) {
      setV(initial(relationship));
      setErrors({});
      save.reset();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reset only when (re)opened
  }, [opened, relationship]);

  const set = <K extends keyof Values>(k: K, value: Values[K]) =>
    setV((p) => ({ ...p, [k]: value }));
  const entityOptions = props.entities.map((e) => ({ value: String(e.id), label: e.name }));

  const submit = () => {
    const errs: Partial<Record<keyof Values, string>> = {};
    if (!v.fromId) errs.fromId = "Choose who the relationship is from.";
    if (!v.toId) errs.toId = "Choose who the relationship is to.";
    for (const k of ["startDate", "endDate"] as const) {
      if (v[k].trim() !== "" && !isValidIsoDate(v[k].trim())) errs[k] = "Use YYYY-MM-DD.";
    }
    setErrors(errs);
    if (Object.keys(errs).length > 0 || !v.fromId || !v.toId) return;
    const input: RelationshipInput = {
      kind: v.kind,
      fromId: Number(v.fromId),
      toId: Number(v.toId),
      shares: hasShares(v.kind) ? num(v.shares) : null,
      shareClass: hasShares(v.kind) ? opt(v.shareClass) : null,
      percentage: hasPercentage(v.kind) ? num(v.percentage) : null,
      startDate: opt(v.startDate),
      endDate: opt(v.endDate),
      label: v.kind === "custom" ? opt(v.label) : null,
    };
    save.mutate(
      { id: relationship?.id ?? null, input },
      {
        onSuccess: () => {
          notifySuccess(relationship ? "Relationship saved." : "Relationship created.");
          props.onClose();
        },
      },
    );
  };

  return (
    <Modal
      opened={opened}
      onClose={props.onClose}
      title={relationship ? "Edit relationship" : "Create relationship"}
      size="lg"
      centered
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <Stack gap="sm">
          <SimpleGrid cols={3} spacing="sm">
            <Select
              label="From"
              required
              searchable
              data={entityOptions}
              value={v.fromId}
              onChange={(x) => set("fromId", x)}
              error={errors.fromId}
              data-testid="rel-from"
            />
            <Select
              label="Relationship"
              required
              searchable
              allowDeselect={false}
              data={Object.entries(RELATIONSHIP_KIND_LABEL).map(([value, label]) => ({
                value,
                label,
              }))}
              value={v.kind}
              onChange={(x) => x && set("kind", x as RelationshipKind)}
              data-testid="rel-kind"
            />
            <Select
              label="To"
              required
              searchable
              data={entityOptions}
              value={v.toId}
              onChange={(x) => set("toId", x)}
              error={errors.toId}
              data-testid="rel-to"
            />
          </SimpleGrid>
          <Text size="xs" c="dimmed">
            Read it as: From is the {RELATIONSHIP_KIND_LABEL[v.kind].toLowerCase()} of To.
          </Text>
          {(hasShares(v.kind) || hasPercentage(v.kind)) && (
            <SimpleGrid cols={3} spacing="sm">
              {hasShares(v.kind) && (
                <NumberInput
                  label={v.kind === "unitholder" ? "Units" : "Shares"}
                  min={0}
                  allowDecimal={false}
                  value={v.shares}
                  onChange={(x) => set("shares", x)}
                  data-testid="rel-shares"
                />
              )}
              {hasShares(v.kind) && (
                <TextInput
                  label={v.kind === "unitholder" ? "Unit class" : "Share class"}
                  placeholder="e.g. Ordinary"
                  value={v.shareClass}
                  onChange={(e) => set("shareClass", e.currentTarget.value)}
                  data-testid="rel-share-class"
                />
              )}
              <NumberInput
                label="Percentage"
                min={0}
                max={100}
                suffix="%"
                decimalScale={4}
                value={v.percentage}
                onChange={(x) => set("percentage", x)}
                data-testid="rel-percentage"
              />
            </SimpleGrid>
          )}
          <SimpleGrid cols={2} spacing="sm">
            <TextInput
              label="Start date"
              placeholder="YYYY-MM-DD"
              value={v.startDate}
              onChange={(e) => set("startDate", e.currentTarget.value)}
              error={errors.startDate}
              data-testid="rel-start"
            />
            <TextInput
              label="End date"
              placeholder="YYYY-MM-DD"
              value={v.endDate}
              onChange={(e) => set("endDate", e.currentTarget.value)}
              error={errors.endDate}
              data-testid="rel-end"
            />
          </SimpleGrid>
          {v.kind === "custom" && (
            <TextInput
              label="Label"
              required
              placeholder="e.g. Guarantor"
              value={v.label}
              onChange={(e) => set("label", e.currentTarget.value)}
              data-testid="rel-label"
            />
          )}
          {save.isError && (
            <Alert color="red" role="alert" title="Not saved" data-testid="relationship-form-error">
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
            <Button type="submit" loading={save.isPending} data-testid="relationship-submit">
              {relationship ? "Save" : "Create relationship"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
