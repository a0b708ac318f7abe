import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Progress,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { IntegrationError, useIntegrationAction } from "../account/integrationAction";
import { useBackend } from "../ipc/BackendProvider";
import type { PushAction } from "../ipc/bindings/PushAction";
import type { PushPhase } from "../ipc/bindings/PushPhase";
import type { PushPlan } from "../ipc/bindings/PushPlan";
import type { PushProgress } from "../ipc/bindings/PushProgress";
import type { PushReport } from "../ipc/bindings/PushReport";
import { errorMessage } from "../ipc/IpcError";
import { invalidate } from "../queryKeys";
import { formatEta } from "./PullSection";

const PHASE: Record<PushPhase, string> = {
  entities: "Clients",
  group: "Group name",
  membership: "Group members",
  crossGroup: "Clients of other groups",
  relationships: "Relationships",
};

const ACTION: Record<PushAction, string> = {
  create: "Create",
  update: "Update",
  check: "Check",
  link: "Add to group",
  replace: "Replace",
  unchanged: "Unchanged",
  skip: "Skip",
  manual: "Do in XPM",
};

/**
 * The push part of a linked group's XPM tab: *Preview push* (what will be created, updated and
 * linked in XPM and the calls it takes — no XPM call), then *Push to XPM* (through the two-factor
 * gate) with a progress bar and *Cancel*, and the per-item results. Pushing again after a stop
 * carries on where it stopped; a push never removes anything from XPM.
 */
export function PushSection({ groupId }: { groupId: number }) {
  const backend = useBackend();
  const qc = useQueryClient();
  const [crossGroup, setCrossGroup] = useState(false);
  const [plan, setPlan] = useState<PushPlan | null>(null);
  const [planError, setPlanError] = useState<unknown>(null);
  const [planning, setPlanning] = useState(false);
  const [progress, setProgress] = useState<PushProgress | null>(null);
  const [report, setReport] = useState<PushReport | null>(null);

  const preview = async () => {
    setPlanning(true);
    setPlanError(null);
    setReport(null);
    try {
      setPlan(await backend.xpmPushPlan(groupId, { crossGroup }));
    } catch (e) {
      setPlanError(e);
    } finally {
      setPlanning(false);
    }
  };

  const push = useIntegrationAction(
    async () => {
      try {
        return await backend.xpmPush(groupId, { crossGroup }, setProgress);
      } finally {
        setProgress(null);
        void invalidate.pulled(qc);
      }
    },
    (r) => {
      setReport(r);
      setPlan(null);
    },
  );

  const pending = plan?.items.filter((i) => i.action !== "unchanged") ?? [];
  // Items left for the user (rename in XPM) or skipped send nothing: no reason to push.
  const nothingToSend = pending.every((i) => i.action === "manual" || i.action === "skip");
  return (
    <Stack gap="sm" data-testid="push-section">
      <Title order={4}>Push to XPM</Title>
      <Text size="sm" c="dimmed">
        Sends this group&apos;s entities, members and relationships to its XPM group: new clients
        are created, changed ones updated. A push never removes anything from XPM.
      </Text>
      {push.ui}
      <Group>
        <Button
          variant="light"
          onClick={() => void preview()}
          loading={planning}
          data-testid="push-preview"
        >
          Preview push
        </Button>
        <Checkbox
          label="Include clients of other groups that relationships need"
          checked={crossGroup}
          onChange={(e) => setCrossGroup(e.currentTarget.checked)}
        />
      </Group>
      {planError !== null && <Alert color="red">{errorMessage(planError)}</Alert>}
      {plan && (
        <Stack gap="xs" data-testid="push-plan">
          <Text size="sm" data-testid="push-plan-summary">
            {plan.creates} to create, {plan.updates} to update, {plan.links} to add to the group,{" "}
            {plan.unchanged} unchanged{plan.skipped ? `, ${plan.skipped} skipped` : ""}: about{" "}
            {plan.calls} XPM call{plan.calls === 1 ? "" : "s"} ({plan.minutes} minute
            {plan.minutes === 1 ? "" : "s"} at XPM&apos;s 60 calls a minute).
          </Text>
          {pending.length > 0 && (
            <Table data-testid="push-plan-items">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Step</Table.Th>
                  <Table.Th>What</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Changes</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {pending.map((i, n) => (
                  <Table.Tr key={n}>
                    <Table.Td>{PHASE[i.phase]}</Table.Td>
                    <Table.Td>{i.subject}</Table.Td>
                    <Table.Td>{ACTION[i.action]}</Table.Td>
                    <Table.Td>
                      <Text size="xs">
                        {i.changes
                          .map((c) => `${c.field}: ${c.from ?? "–"} → ${c.to ?? "–"}`)
                          .join("; ")}
                        {i.note ? ` ${i.note}` : ""}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          <Group>
            <Button
              onClick={() => void push.run()}
              loading={push.pending}
              disabled={nothingToSend}
              data-testid="push-run"
            >
              {nothingToSend ? "Nothing to push" : "Push to XPM"}
            </Button>
            {push.pending && (
              <Button variant="default" onClick={() => void backend.xpmPushCancel(groupId)}>
                Cancel
              </Button>
            )}
          </Group>
        </Stack>
      )}
      {progress && (
        <Stack gap={4} data-testid="push-progress">
          <Progress
            value={progress.total ? (100 * progress.done) / progress.total : 0}
            animated
            aria-label="Push progress"
          />
          <Text size="sm" c="dimmed">
            {PHASE[progress.phase]}: {progress.done} of {progress.total} XPM calls,{" "}
            {formatEta(progress.etaSeconds)}.
          </Text>
        </Stack>
      )}
      <IntegrationError error={push.error} />
      {report && (
        <Alert
          color={report.counts.failed > 0 || report.stopped ? "orange" : "green"}
          data-testid="push-report"
        >
          <Text size="sm" data-testid="push-report-summary">
            {report.counts.clientsCreated} client{report.counts.clientsCreated === 1 ? "" : "s"}{" "}
            created, {report.counts.clientsUpdated} updated, {report.counts.clientsAdopted} found
            already in XPM, {report.counts.membersAdded} added to the group;{" "}
            {report.counts.relationshipsCreated} relationship
            {report.counts.relationshipsCreated === 1 ? "" : "s"} created,{" "}
            {report.counts.relationshipsUpdated + report.counts.relationshipsReplaced} updated;{" "}
            {report.counts.failed} failed. {report.calls} XPM calls.
          </Text>
          {report.stopped && (
            <Text size="sm" mt={4}>
              {report.stopped} Push again to carry on where it stopped.
            </Text>
          )}
          {report.items
            .filter((i) => i.outcome === "failed")
            .map((i, n) => (
              <Text size="sm" key={n}>
                <Badge color="red" size="sm" mr={4}>
                  Failed
                </Badge>
                {i.subject}: {i.message}
              </Text>
            ))}
        </Alert>
      )}
    </Stack>
  );
}
