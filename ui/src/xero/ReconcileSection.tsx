import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Paper,
  Progress,
  SegmentedControl,
  Select,
  Stack,
  Stepper,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { IntegrationError, useIntegrationAction } from "../account/integrationAction";
import {
  ENTITY_KIND_LABEL,
  ENTITY_KINDS,
  RELATIONSHIP_KIND_LABEL,
  TRUST_TYPE_LABEL,
  TRUST_TYPES_SORTED,
} from "../common/labels";
import { ErrorState } from "../common/ErrorState";
import { useBackend } from "../ipc/BackendProvider";
import type { Action } from "../ipc/bindings/Action";
import type { ApplyProgress } from "../ipc/bindings/ApplyProgress";
import type { ApplyReport } from "../ipc/bindings/ApplyReport";
import type { EntityKind } from "../ipc/bindings/EntityKind";
import type { FieldChoice } from "../ipc/bindings/FieldChoice";
import type { Helper } from "../ipc/bindings/Helper";
import type { ReconcileDecision } from "../ipc/bindings/ReconcileDecision";
import type { ReconcileItem } from "../ipc/bindings/ReconcileItem";
import type { ReconcilePreview } from "../ipc/bindings/ReconcilePreview";
import type { RelationshipKind } from "../ipc/bindings/RelationshipKind";
import type { TrustType } from "../ipc/bindings/TrustType";
import { errorMessage } from "../ipc/IpcError";
import { invalidate, queryKeys } from "../queryKeys";
import { formatDateTime } from "./format";
import { decision, GUARDED } from "../ipc/reconcileDecision";
import {
  ACTION_LABEL,
  DIFF_TYPE_LABEL,
  fieldLabel,
  OUTCOME,
  PHASE_LABEL,
  STATUS,
} from "./reconcileLabels";

type Decide = (d: ReconcileDecision | null) => void;

/** The segmented bar, counts, differences by type and caveats (product-spec §8.13). */
function ReconcileSummary({ plan }: { plan: ReconcilePreview }) {
  const s = plan.summary;
  const total = Math.max(1, s.total);
  const c = s.byCategory;
  return (
    <Stack gap={4} data-testid="reconcile-summary">
      <Progress.Root size="lg" aria-label="Reconciliation summary">
        <Progress.Section value={(100 * s.ready) / total} color="green" />
        <Progress.Section value={(100 * s.needsInput) / total} color="orange" />
        <Progress.Section value={(100 * s.waiting) / total} color="gray" />
      </Progress.Root>
      <Text size="sm" data-testid="reconcile-counts">
        {s.total} difference{s.total === 1 ? "" : "s"}: {s.ready} ready to apply · {s.needsInput}{" "}
        need your input · {s.waiting} waiting on other changes
      </Text>
      <Text size="xs" c="dimmed" data-testid="reconcile-by-type">
        By type: {c.entities} missing or new entities · {c.entityDetails} entity details ·{" "}
        {c.membership} membership · {c.relationships} relationships
      </Text>
      {s.caveats.map((caveat) => (
        <Text size="sm" c="orange.8" key={caveat} data-testid="reconcile-caveat">
          {caveat}
        </Text>
      ))}
    </Stack>
  );
}

/** Field by field: StructureGram's value, XPM's value, or leave both. */
function FieldChoices({ item, decide }: { item: ReconcileItem; decide: Decide }) {
  const chosen = item.decision?.fields ?? {};
  const fallback = (f: ReconcileItem["fields"][number]): FieldChoice | null => {
    const action = item.decision?.action;
    if (action === "useSgValues") return "useSg";
    if (action === "useXpmValues" && f.xpmAllowed) return "useXpm";
    if (action === "ignore") return "ignore";
    return f.recommended;
  };
  return (
    <Table withRowBorders={false} verticalSpacing={2} data-testid="reconcile-fields">
      <Table.Tbody>
        {item.fields.map((f) => (
          <Table.Tr key={f.field}>
            <Table.Td w={130}>
              <Text size="sm" fw={500}>
                {fieldLabel(f.field)}
              </Text>
            </Table.Td>
            <Table.Td>
              <SegmentedControl
                size="xs"
                value={chosen[f.field] ?? fallback(f) ?? ""}
                onChange={(v) =>
                  decide(
                    decision({
                      ...item.decision,
                      fields: { ...chosen, [f.field]: v as FieldChoice },
                    }),
                  )
                }
                data={[
                  { value: "useSg", label: `StructureGram: ${f.sg ?? "(empty)"}` },
                  {
                    value: "useXpm",
                    label: `XPM: ${f.xpm ?? "(empty)"}`,
                    disabled: !f.xpmAllowed,
                  },
                  { value: "ignore", label: "Leave both" },
                ]}
                data-testid={`reconcile-field-${f.field}`}
              />
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** The extra input some actions need: a candidate entity, an entity type, a relationship type. */
function ActionDetails({
  item,
  action,
  decide,
}: {
  item: ReconcileItem;
  action: Action;
  decide: Decide;
}) {
  const current = item.decision?.action === action ? item.decision : null;
  const [kind, setKind] = useState<EntityKind | null>(current?.kind ?? null);
  const [trustType, setTrustType] = useState<TrustType | null>(current?.trustType ?? null);
  const [remember, setRemember] = useState(current?.rememberRule ?? true);
  if (action === "linkToSg" && item.candidates.length > 0) {
    return (
      <Select
        label="Entity to link to"
        placeholder="Choose"
        w={320}
        data={item.candidates.map((c) => ({
          value: String(c.entityId),
          label: `${c.name} (${c.confidence}: ${c.reason})`,
        }))}
        value={(current?.entityId ?? null) !== null ? String(current?.entityId) : null}
        onChange={(v) => v && decide(decision({ action, entityId: Number(v) }))}
        data-testid="reconcile-candidate"
      />
    );
  }
  if (action === "chooseType") {
    const complete = kind !== null && (kind !== "trust" || trustType !== null);
    return (
      <Group align="end">
        <Select
          label="Entity type"
          placeholder="Choose"
          w={170}
          data={ENTITY_KINDS.map((k) => ({ value: k, label: ENTITY_KIND_LABEL[k] }))}
          value={kind}
          onChange={(v) => setKind(v as EntityKind | null)}
          data-testid="reconcile-kind"
        />
        {kind === "trust" && (
          <Select
            label="Trust type"
            placeholder="Choose"
            w={200}
            data={TRUST_TYPES_SORTED.map((t) => ({ value: t, label: TRUST_TYPE_LABEL[t] }))}
            value={trustType}
            onChange={(v) => setTrustType(v as TrustType | null)}
            data-testid="reconcile-trust-type"
          />
        )}
        <Checkbox
          label="Remember as a rule"
          checked={remember}
          onChange={(e) => setRemember(e.currentTarget.checked)}
        />
        <Button
          size="xs"
          disabled={!complete}
          onClick={() =>
            decide(
              decision({
                action,
                kind,
                trustType: kind === "trust" ? trustType : null,
                rememberRule: remember,
              }),
            )
          }
          data-testid="reconcile-set-type"
        >
          Use this type
        </Button>
      </Group>
    );
  }
  if (action === "importToSg" && item.diffType === "REL_NEEDS_POLICY") {
    return (
      <Select
        label="Import as"
        placeholder="Choose a relationship type"
        w={260}
        data={Object.entries(RELATIONSHIP_KIND_LABEL).map(([value, label]) => ({ value, label }))}
        value={current?.relationshipKind ?? null}
        onChange={(v) => v && decide(decision({ action, relationshipKind: v as RelationshipKind }))}
        data-testid="reconcile-relationship-kind"
      />
    );
  }
  return null;
}

function ItemRow({ item, decide }: { item: ReconcileItem; decide: Decide }) {
  // The action shown: the saved decision's, else what apply would do.
  const [picked, setPicked] = useState<Action | null>(null);
  const action = picked ?? item.decision?.action ?? item.effective ?? null;
  const unconfirmed = action !== null && GUARDED.has(action) && !item.decision?.confirmed;
  const choose = (next: Action) => {
    setPicked(next);
    // Guarded actions wait for their confirmation; those needing details wait for them.
    if (GUARDED.has(next)) return;
    if (next === "chooseType" || (next === "linkToSg" && item.candidates.length > 0)) return;
    if (next === "importToSg" && item.diffType === "REL_NEEDS_POLICY") return;
    decide(decision({ action: next }));
  };
  const status = STATUS[item.status];
  return (
    <Paper withBorder p="sm" data-testid="reconcile-item" data-item-id={item.id}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap">
          <Group gap="xs">
            <Badge variant="light" data-testid="reconcile-item-type">
              {DIFF_TYPE_LABEL[item.diffType]}
            </Badge>
            <Text size="sm" fw={500} data-testid="reconcile-item-subject">
              {item.subject}
            </Text>
            {item.crossGroup && (
              <Badge size="xs" color="gray" variant="outline">
                Other group
              </Badge>
            )}
          </Group>
          <Badge color={status.color} variant="light" data-testid="reconcile-item-status">
            {status.label}
          </Badge>
        </Group>
        {(item.sgLabel || item.xpmLabel) && (
          <Text size="xs" c="dimmed">
            StructureGram: {item.sgLabel ?? "—"} · XPM: {item.xpmLabel ?? "—"}
          </Text>
        )}
        {item.note && <Text size="xs">{item.note}</Text>}
        {item.needs && (
          <Text size="xs" c="orange.8">
            {item.needs}
          </Text>
        )}
        {item.waitingOn.length > 0 && (
          <Text size="xs" c="dimmed">
            Waits on {item.waitingOn.length} other item{item.waitingOn.length === 1 ? "" : "s"}{" "}
            being applied first.
          </Text>
        )}
        {item.diffType === "ENTITY_FIELD_MISMATCH" ? (
          <FieldChoices item={item} decide={decide} />
        ) : (
          <Group align="end">
            <Select
              label="Action"
              w={320}
              allowDeselect={false}
              placeholder="Choose what to do"
              data={item.actions.map((a) => ({
                value: a,
                label:
                  a === item.recommended ? `${ACTION_LABEL[a]} (recommended)` : ACTION_LABEL[a],
              }))}
              value={action}
              onChange={(v) => v && choose(v as Action)}
              data-testid="reconcile-action"
            />
          </Group>
        )}
        {action && <ActionDetails key={action} item={item} action={action} decide={decide} />}
        {unconfirmed && (
          <Checkbox
            color="red"
            label={`Yes, ${ACTION_LABEL[action].toLowerCase()}. Until you tick this it is ignored this round.`}
            checked={false}
            onChange={(e) =>
              e.currentTarget.checked && decide(decision({ action, confirmed: true }))
            }
            data-testid="reconcile-confirm"
          />
        )}
      </Stack>
    </Paper>
  );
}

function ResultsPanel({ report }: { report: ApplyReport }) {
  const c = report.counts;
  const failed = c.failed > 0 || c.blocked > 0 || report.stopped !== null;
  return (
    <Alert color={failed ? "orange" : "green"} data-testid="reconcile-results">
      <Text size="sm" data-testid="reconcile-results-summary">
        {c.applied} applied · {c.ignored} ignored · {c.deferred} deferred · {c.blocked} blocked ·{" "}
        {c.failed} failed. {report.calls} XPM call{report.calls === 1 ? "" : "s"}.
      </Text>
      {report.stopped && (
        <Text size="sm" mt={4}>
          {report.stopped} Apply again to carry on.
        </Text>
      )}
      {report.notInPreview.length > 0 && (
        <Text size="sm" mt={4}>
          {report.notInPreview.length} difference{report.notInPreview.length === 1 ? "" : "s"}{" "}
          changed in XPM since the preview and {report.notInPreview.length === 1 ? "was" : "were"}{" "}
          not applied: generate a new preview.
        </Text>
      )}
      <Table mt="xs" verticalSpacing={2} data-testid="reconcile-results-items">
        <Table.Tbody>
          {report.results.map((r) => (
            <Table.Tr key={r.itemId}>
              <Table.Td w={100}>
                <Badge size="sm" color={OUTCOME[r.outcome].color}>
                  {OUTCOME[r.outcome].label}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{r.subject}</Text>
                <Text size="xs" c="dimmed">
                  {PHASE_LABEL[r.phase]}
                  {r.action ? ` · ${ACTION_LABEL[r.action]}` : ""}
                  {r.message ? ` · ${r.message}` : ""}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Alert>
  );
}

const HELPERS: { helper: Helper; label: string }[] = [
  { helper: "acceptRecommendations", label: "Accept all recommendations" },
  { helper: "preferXpm", label: "Prefer XPM values" },
  { helper: "preferSg", label: "Prefer StructureGram values" },
];

/**
 * Reconciliation on a linked group's XPM tab (product-spec §8.12–§8.13): *Generate preview*
 * compares the group with live XPM (through the two-factor gate) and lists every difference; the
 * user decides each item (or uses a helper; decisions are saved at once, so closing the app keeps
 * them); *Apply* carries out the decisions in phases and shows each item's outcome. Nothing moves
 * without a decision, and deletions only when confirmed one by one.
 */
export function ReconcileSection({ groupId }: { groupId: number }) {
  const backend = useBackend();
  const qc = useQueryClient();
  const key = queryKeys.reconcile(groupId);
  const current = useQuery({ queryKey: key, queryFn: () => backend.xpmReconcileCurrent(groupId) });
  const [progress, setProgress] = useState<ApplyProgress | null>(null);
  const [report, setReport] = useState<ApplyReport | null>(null);

  const preview = useIntegrationAction(
    () => backend.xpmReconcilePreview(groupId),
    (plan) => {
      qc.setQueryData(key, plan);
      setReport(null);
    },
  );
  const decide = useMutation({
    mutationFn: ({ itemId, d }: { itemId: string; d: ReconcileDecision | null }) =>
      backend.xpmReconcileDecide(groupId, itemId, d),
    onSuccess: (plan) => qc.setQueryData(key, plan),
  });
  const helper = useMutation({
    mutationFn: (h: Helper) => backend.xpmReconcileHelper(groupId, h),
    onSuccess: (plan) => qc.setQueryData(key, plan),
  });
  const apply = useIntegrationAction(
    async () => {
      try {
        return await backend.xpmReconcileApply(groupId, setProgress);
      } finally {
        setProgress(null);
        // What is left of the plan (applied items are gone) is read before the buttons come
        // back, so a new preview cannot be overtaken by this older answer.
        await qc.invalidateQueries({ queryKey: key });
        void invalidate.pulled(qc);
      }
    },
    (r) => setReport(r),
  );

  if (current.isError) {
    return (
      <ErrorState
        title="Could not load the reconciliation"
        error={current.error}
        onRetry={() => void current.refetch()}
      />
    );
  }
  const plan = current.data ?? null;
  const step = report ? 2 : plan ? 1 : 0;
  const toApply = plan?.items.filter((i) => i.effective && i.effective !== "ignore").length ?? 0;
  return (
    <Stack gap="sm" data-testid="reconcile-section">
      <Title order={4}>Reconcile with XPM</Title>
      <Text size="sm" c="dimmed">
        Compares this group with live XPM and lists every difference. Nothing changes until you
        decide each item and apply; deletions only when you confirm them one by one.
      </Text>
      <Stepper active={step} size="xs">
        <Stepper.Step label="Generate preview" />
        <Stepper.Step label="Decide each difference" />
        <Stepper.Step label="Apply and see results" />
      </Stepper>
      {preview.ui}
      {apply.ui}
      <Group>
        <Button
          variant="light"
          onClick={() => void preview.run()}
          loading={preview.pending}
          disabled={apply.pending}
          data-testid="reconcile-preview"
        >
          {plan ? "Generate a new preview" : "Generate preview"}
        </Button>
        {plan && (
          <Text size="xs" c="dimmed">
            Previewed {formatDateTime(plan.generatedAt)} ({plan.calls} XPM call
            {plan.calls === 1 ? "" : "s"}).
          </Text>
        )}
      </Group>
      <IntegrationError error={preview.error} />
      {report && <ResultsPanel report={report} />}
      {plan && plan.items.length === 0 && (
        <Alert color="green" data-testid="reconcile-no-differences">
          No differences: this group and its XPM group match.
        </Alert>
      )}
      {plan && plan.items.length > 0 && (
        <Stack gap="sm" data-testid="reconcile-plan">
          <ReconcileSummary plan={plan} />
          <Group gap="xs">
            {HELPERS.map((h) => (
              <Button
                key={h.helper}
                size="xs"
                variant="default"
                loading={helper.isPending && helper.variables === h.helper}
                onClick={() => helper.mutate(h.helper)}
                data-testid={`reconcile-helper-${h.helper}`}
              >
                {h.label}
              </Button>
            ))}
          </Group>
          {(decide.isError || helper.isError) && (
            <Alert color="red" role="alert">
              {errorMessage(decide.error ?? helper.error)}
            </Alert>
          )}
          {plan.items.map((item) => (
            <ItemRow
              key={`${item.id}:${JSON.stringify(item.decision)}`}
              item={item}
              decide={(d) => decide.mutate({ itemId: item.id, d })}
            />
          ))}
          <Group>
            <Button
              onClick={() => void apply.run()}
              loading={apply.pending}
              disabled={!plan.summary.readyToApply || toApply === 0}
              data-testid="reconcile-apply"
            >
              {plan.summary.readyToApply
                ? `Apply ${toApply} decision${toApply === 1 ? "" : "s"}`
                : "Decide every item to apply"}
            </Button>
          </Group>
          {progress && (
            <Stack gap={4} data-testid="reconcile-progress">
              <Progress
                value={progress.total ? (100 * progress.done) / progress.total : 0}
                animated
                aria-label="Apply progress"
              />
              <Text size="sm" c="dimmed">
                {PHASE_LABEL[progress.phase]}: {progress.done} of {progress.total} items.
              </Text>
            </Stack>
          )}
          <IntegrationError error={apply.error} />
        </Stack>
      )}
    </Stack>
  );
}
