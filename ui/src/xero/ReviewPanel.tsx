import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Paper,
  Progress,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import type { UseQueryResult } from "@tanstack/react-query";
import { useState } from "react";
import {
  ENTITY_KIND_LABEL,
  ENTITY_KINDS,
  RELATIONSHIP_KIND_LABEL,
  TRUST_TYPE_LABEL,
  TRUST_TYPES_SORTED,
} from "../common/labels";
import { ErrorState } from "../common/ErrorState";
import type { Decision } from "../ipc/bindings/Decision";
import type { EntityKind } from "../ipc/bindings/EntityKind";
import type { RelationshipKind } from "../ipc/bindings/RelationshipKind";
import type { ReviewItem } from "../ipc/bindings/ReviewItem";
import type { ReviewList } from "../ipc/bindings/ReviewList";
import type { ReviewState } from "../ipc/bindings/ReviewState";
import type { TrustType } from "../ipc/bindings/TrustType";
import { errorMessage } from "../ipc/IpcError";
import { useDecide } from "./pullApi";

const STATE: Record<ReviewState, { label: string; color: string }> = {
  ready: { label: "Ready to apply", color: "green" },
  needsInput: { label: "Needs your input", color: "orange" },
  waiting: { label: "Waiting on other changes", color: "gray" },
  resolved: { label: "Done", color: "blue" },
};

/** The decision in words, as the item shows it once made. */
export function describeDecision(d: Decision): string {
  switch (d.action) {
    case "setKind":
      return `Create as ${ENTITY_KIND_LABEL[d.kind]}${d.trustType ? ` (${TRUST_TYPE_LABEL[d.trustType]})` : ""}${d.rememberAsRule ? ", remembered as a rule" : ""}`;
    case "confirm":
      return `Type confirmed${d.rememberAsRule ? ", remembered as a rule" : ""}`;
    case "linkExisting":
      return "Link to the existing entity";
    case "createNew":
      return "Create a new entity";
    case "removeFromGroup":
      return "Remove from this group";
    case "keep":
      return "Keep as it is";
    case "deleteHere":
      return "Delete it here too";
    case "setShareClass":
      return `Class ${d.shareClass}`;
    case "importAs":
      return `Import as ${RELATIONSHIP_KIND_LABEL[d.kind]}`;
    case "defer":
      return "Left for later";
  }
}

/** The segmented bar and counts: ready, needs input, waiting (product-spec §8.13). */
function ReviewSummaryBar({ list }: { list: ReviewList }) {
  const { ready, needsInput, waiting } = list.summary;
  const total = ready + needsInput + waiting;
  const removals = list.items.some(
    (i) => i.kind === "memberRemoved" || i.kind === "relationshipGone",
  );
  return (
    <Stack gap={4} data-testid="review-summary">
      <Progress.Root size="lg" aria-label="Review summary">
        <Progress.Section value={(100 * ready) / total} color="green" />
        <Progress.Section value={(100 * needsInput) / total} color="orange" />
        <Progress.Section value={(100 * waiting) / total} color="gray" />
      </Progress.Root>
      <Text size="sm" data-testid="review-counts">
        {ready} ready to apply · {needsInput} need your input · {waiting} waiting on other changes
      </Text>
      {needsInput === 0 && waiting === 0 && (
        <Text size="sm" c="dimmed">
          Every item has a decision: pull again to apply them.
        </Text>
      )}
      {removals && (
        <Text size="sm" c="dimmed">
          Removals are never automatic: nothing is removed or deleted here unless you choose it.
        </Text>
      )}
    </Stack>
  );
}

function RememberBox({
  structure,
  checked,
  onChange,
}: {
  structure: string | null;
  checked: boolean;
  onChange: (v: boolean) => void;
}) {
  return (
    <Checkbox
      label={`Remember as a rule for "${structure ?? ""}" (colleagues' pulls use it too)`}
      checked={checked}
      onChange={(e) => onChange(e.currentTarget.checked)}
      data-testid="review-remember"
    />
  );
}

function EntityTypeChoice({ item, decide }: { item: ReviewItem; decide: (d: Decision) => void }) {
  const previous = item.decision?.action === "setKind" ? item.decision : null;
  const [kind, setKind] = useState<EntityKind | null>(previous?.kind ?? null);
  const [trustType, setTrustType] = useState<TrustType | null>(previous?.trustType ?? null);
  const [remember, setRemember] = useState(previous?.rememberAsRule ?? true);
  const isTrust = kind === "trust";
  return (
    <Stack gap="xs">
      <Group align="end">
        <Select
          label="Entity type"
          placeholder="Choose"
          data={ENTITY_KINDS.map((k) => ({ value: k, label: ENTITY_KIND_LABEL[k] }))}
          value={kind}
          onChange={(v) => setKind(v as EntityKind | null)}
          w={180}
          data-testid="review-kind"
        />
        {isTrust && (
          <Select
            label="Trust type"
            placeholder="Choose"
            data={TRUST_TYPES_SORTED.map((t) => ({ value: t, label: TRUST_TYPE_LABEL[t] }))}
            value={trustType}
            onChange={(v) => setTrustType(v as TrustType | null)}
            w={200}
            data-testid="review-trust-type"
          />
        )}
      </Group>
      <RememberBox
        structure={item.payload.businessStructure}
        checked={remember}
        onChange={setRemember}
      />
      <Group>
        <Button
          size="xs"
          disabled={kind === null || (isTrust && trustType === null)}
          onClick={() =>
            kind &&
            decide({
              action: "setKind",
              kind,
              trustType: isTrust ? trustType : null,
              rememberAsRule: remember,
            })
          }
          data-testid="review-apply"
        >
          Use this type
        </Button>
      </Group>
    </Stack>
  );
}

function KeywordChoice({ item, decide }: { item: ReviewItem; decide: (d: Decision) => void }) {
  const [remember, setRemember] = useState(false);
  const { kind, trustType } = item.payload;
  return (
    <Stack gap="xs">
      <Text size="sm">
        Matched as{" "}
        <b>
          {kind ? ENTITY_KIND_LABEL[kind] : "?"}
          {trustType ? ` (${TRUST_TYPE_LABEL[trustType]})` : ""}
        </b>
        . To change it, edit the entity&apos;s type.
      </Text>
      <RememberBox
        structure={item.payload.businessStructure}
        checked={remember}
        onChange={setRemember}
      />
      <Group>
        <Button
          size="xs"
          onClick={() => decide({ action: "confirm", rememberAsRule: remember })}
          data-testid="review-confirm"
        >
          Confirm
        </Button>
      </Group>
    </Stack>
  );
}

function ShareClassChoice({ decide }: { decide: (d: Decision) => void }) {
  const [cls, setCls] = useState("");
  return (
    <Group align="end">
      <TextInput
        label="Share or unit class"
        placeholder="Ordinary"
        value={cls}
        onChange={(e) => setCls(e.currentTarget.value)}
        w={200}
        data-testid="review-share-class"
      />
      <Button
        size="xs"
        disabled={cls.trim() === ""}
        onClick={() => decide({ action: "setShareClass", shareClass: cls.trim() })}
        data-testid="review-set-class"
      >
        Set class
      </Button>
      <Button size="xs" variant="default" onClick={() => decide({ action: "keep" })}>
        Keep it unset
      </Button>
    </Group>
  );
}

function RelationshipChoice({ item, decide }: { item: ReviewItem; decide: (d: Decision) => void }) {
  const p = item.payload;
  const [kind, setKind] = useState<RelationshipKind | null>(p.relationshipKind);
  const [from, setFrom] = useState<string | null>(p.fromUuid);
  const ends = [
    p.fromUuid && { value: p.fromUuid, label: `${p.fromName ?? "?"} → ${p.toName ?? "?"}` },
    p.toUuid && { value: p.toUuid, label: `${p.toName ?? "?"} → ${p.fromName ?? "?"}` },
  ].filter((x): x is { value: string; label: string } => Boolean(x));
  return (
    <Group align="end">
      <Select
        label="Relationship type"
        data={(Object.keys(RELATIONSHIP_KIND_LABEL) as RelationshipKind[]).map((k) => ({
          value: k,
          label: RELATIONSHIP_KIND_LABEL[k],
        }))}
        value={kind}
        onChange={(v) => setKind(v as RelationshipKind | null)}
        w={200}
      />
      <Select label="Direction" data={ends} value={from} onChange={setFrom} w={280} />
      <Button
        size="xs"
        disabled={kind === null || from === null}
        onClick={() => kind && from && decide({ action: "importAs", kind, fromUuid: from })}
      >
        Import
      </Button>
    </Group>
  );
}

function Choices({ item, decide }: { item: ReviewItem; decide: (d: Decision) => void }) {
  const two = (a: [string, Decision], b: [string, Decision]) => (
    <Group>
      <Button size="xs" onClick={() => decide(a[1])}>
        {a[0]}
      </Button>
      <Button size="xs" variant="default" onClick={() => decide(b[1])}>
        {b[0]}
      </Button>
    </Group>
  );
  switch (item.kind) {
    case "entityType":
      return <EntityTypeChoice item={item} decide={decide} />;
    case "keywordMatch":
      return <KeywordChoice item={item} decide={decide} />;
    case "duplicate":
      return (
        <Stack gap="xs">
          {item.payload.candidates.map((c) => (
            <Group key={c.entityId}>
              <Button
                size="xs"
                onClick={() => decide({ action: "linkExisting", entityId: c.entityId })}
              >
                Link to {c.name}
              </Button>
              <Text size="xs" c="dimmed">
                {c.confidence === "high" ? "High" : "Medium"} confidence: {c.reason}
              </Text>
            </Group>
          ))}
          <Group>
            <Button size="xs" variant="default" onClick={() => decide({ action: "createNew" })}>
              Create new
            </Button>
          </Group>
        </Stack>
      );
    case "outsideClient":
      return (
        <Group>
          <Button size="xs" onClick={() => decide({ action: "createNew" })}>
            Import it
          </Button>
        </Group>
      );
    case "memberRemoved":
      return two(
        ["Remove from this group", { action: "removeFromGroup" }],
        ["Keep in this group", { action: "keep" }],
      );
    case "relationshipGone":
      return two(["Delete it here too", { action: "deleteHere" }], ["Keep it", { action: "keep" }]);
    case "holdingClass":
      return <ShareClassChoice decide={decide} />;
    case "relationship":
      return <RelationshipChoice item={item} decide={decide} />;
    case "invalidClient":
      return (
        <Text size="sm" c="dimmed">
          Fix the client in XPM, then pull again.
        </Text>
      );
  }
}

function ReviewRow({ item, groupId }: { item: ReviewItem; groupId: number }) {
  const decideMutation = useDecide(groupId);
  const decide = (decision: Decision) => decideMutation.mutate({ itemId: item.id, decision });
  const state = STATE[item.state];
  return (
    <Paper withBorder p="sm" data-testid="review-item">
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={600} size="sm" data-testid="review-subject">
            {item.subject}
          </Text>
          <Badge color={state.color} variant="light" data-testid="review-state">
            {state.label}
          </Badge>
        </Group>
        <Text size="sm">{item.payload.reason}</Text>
        {item.decision && (
          <Text size="sm" c="green.8" data-testid="review-decision">
            Your decision: {describeDecision(item.decision)}. It is applied at the next pull.
          </Text>
        )}
        <Choices item={item} decide={decide} />
        {item.decision?.action !== "defer" && (
          <Group>
            <Button
              size="xs"
              variant="subtle"
              color="gray"
              onClick={() => decide({ action: "defer" })}
            >
              Decide later
            </Button>
          </Group>
        )}
        {decideMutation.isError && (
          <Alert color="red" role="alert" data-testid="review-error">
            {errorMessage(decideMutation.error)}
          </Alert>
        )}
      </Stack>
    </Paper>
  );
}

/** The review summary and the open items of a group's pulls, each with the choices it offers. */
export function ReviewPanel({
  groupId,
  review,
}: {
  groupId: number;
  review: UseQueryResult<ReviewList>;
}) {
  if (review.isError)
    return (
      <ErrorState
        title="Could not load the review items"
        error={review.error}
        onRetry={() => void review.refetch()}
      />
    );
  const list = review.data;
  if (!list || list.items.length === 0) return null;
  return (
    <Stack gap="sm" data-testid="review-panel">
      <Title order={4} mt="md">
        Review
      </Title>
      <ReviewSummaryBar list={list} />
      {list.items.map((item) => (
        <ReviewRow key={item.id} item={item} groupId={groupId} />
      ))}
    </Stack>
  );
}
