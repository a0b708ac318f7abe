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
import { useRef, useState } from "react";
import { IntegrationError, useIntegrationAction } from "../account/integrationAction";
import type { PullCounts } from "../ipc/bindings/PullCounts";
import type { PullPhase } from "../ipc/bindings/PullPhase";
import type { PullProgress } from "../ipc/bindings/PullProgress";
import type { PullReport } from "../ipc/bindings/PullReport";
import type { RunStatus } from "../ipc/bindings/RunStatus";
import { useBackend } from "../ipc/BackendProvider";
import { IpcError } from "../ipc/IpcError";
import { invalidate } from "../queryKeys";
import { formatDateTime } from "./format";
import { useReviewList, useSyncRuns } from "./pullApi";
import { ReviewPanel } from "./ReviewPanel";

const PHASE_LABEL: Record<PullPhase, string> = {
  members: "Reading the group's members",
  clients: "Reading the clients",
  related: "Reading related clients outside the group",
  applying: "Saving the changes",
};

/** "about 45 s left" / "about 3 min left" (XPM allows 60 calls a minute). */
export function formatEta(seconds: number): string {
  if (seconds <= 0) return "almost done";
  if (seconds < 60) return `about ${seconds} s left`;
  return `about ${Math.ceil(seconds / 60)} min left`;
}

const RUN_STATUS: Record<RunStatus, { label: string; color: string }> = {
  running: { label: "Running", color: "blue" },
  succeeded: { label: "Succeeded", color: "green" },
  failed: { label: "Failed", color: "red" },
  cancelled: { label: "Cancelled", color: "gray" },
  interrupted: { label: "Interrupted", color: "orange" },
};

/** One line per kind of change, leaving out what did not happen. */
export function describeCounts(c: Partial<PullCounts>): string {
  const parts: string[] = [];
  const entities = [
    c.entitiesCreated ? `${c.entitiesCreated} created` : null,
    c.entitiesUpdated ? `${c.entitiesUpdated} updated` : null,
    c.entitiesLinked ? `${c.entitiesLinked} linked to existing` : null,
  ].filter(Boolean);
  if (entities.length) parts.push(`Entities: ${entities.join(", ")}`);
  const members = [
    c.membersAdded ? `${c.membersAdded} added` : null,
    c.membersRemoved ? `${c.membersRemoved} removed` : null,
  ].filter(Boolean);
  if (members.length) parts.push(`Members: ${members.join(", ")}`);
  const rels = [
    c.relationshipsCreated ? `${c.relationshipsCreated} created` : null,
    c.relationshipsUpdated ? `${c.relationshipsUpdated} updated` : null,
    c.relationshipsDeleted ? `${c.relationshipsDeleted} deleted` : null,
  ].filter(Boolean);
  if (rels.length) parts.push(`Relationships: ${rels.join(", ")}`);
  return parts.length ? `${parts.join(". ")}.` : "No changes: the group matches XPM.";
}

function PullSummary({ report }: { report: PullReport }) {
  const p = report.plan;
  const how =
    p.strategy === "perClient"
      ? `${p.membersRead} clients read one by one`
      : p.strategy === "detailedList"
        ? "one detailed client list"
        : "only clients changed since the last pull";
  return (
    <Alert color="green" title="Pull finished" data-testid="pull-summary">
      <Text size="sm">{describeCounts(report.counts)}</Text>
      <Text size="sm" c="dimmed">
        {p.calls} XPM calls: the member list ({p.members} members), {how}
        {p.relatedRead ? `, ${p.relatedRead} related clients outside the group` : ""}.
      </Text>
    </Alert>
  );
}

/**
 * The pull part of a linked group's XPM tab: *Pull from XPM* (through the two-factor gate) with
 * a progress bar (phase, calls done of planned, time left) and *Cancel*; then the run's summary,
 * the review summary and list (*Pull again to apply decisions*), and the last pulls.
 */
export function PullSection({ groupId }: { groupId: number }) {
  const backend = useBackend();
  const qc = useQueryClient();
  const [progress, setProgress] = useState<PullProgress | null>(null);
  const [report, setReport] = useState<PullReport | null>(null);
  const [cancelled, setCancelled] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [full, setFull] = useState(false);
  const review = useReviewList(groupId);
  const runs = useSyncRuns(groupId);

  // Set when the user pressed Cancel: the pull then rejects (nothing saved), which is no failure.
  const cancelRequested = useRef(false);

  const pull = useIntegrationAction(
    async (): Promise<PullReport | null> => {
      setReport(null);
      setCancelled(null);
      cancelRequested.current = false;
      try {
        return await backend.xpmPull(groupId, full, setProgress);
      } catch (e) {
        const err = IpcError.from(e);
        if (cancelRequested.current && err.code === "validation") {
          setCancelled(err.message);
          return null;
        }
        throw e;
      } finally {
        setProgress(null);
        setCancelling(false);
        void invalidate.pulled(qc);
      }
    },
    (r) => {
      if (r) setReport(r);
    },
  );

  const cancel = async () => {
    cancelRequested.current = true;
    setCancelling(true);
    await backend.xpmPullCancel(groupId);
  };

  const open = review.data?.items.length ?? 0;
  // The group's history also holds its pushes; this list is about pulls.
  const pulls = runs.data?.filter((r) => r.kind === "pull");
  return (
    <Stack gap="sm" data-testid="pull-section">
      {pull.ui}
      <Group>
        <Button onClick={() => void pull.run()} loading={pull.pending} data-testid="pull-from-xpm">
          {open > 0 ? "Pull again to apply decisions" : "Pull from XPM"}
        </Button>
        <Checkbox
          label="Re-read every client (full pull)"
          checked={full}
          onChange={(e) => setFull(e.currentTarget.checked)}
          disabled={pull.pending}
          data-testid="pull-full"
        />
        {pull.pending && (
          <Button
            variant="default"
            onClick={() => void cancel()}
            loading={cancelling}
            data-testid="pull-cancel"
          >
            Cancel
          </Button>
        )}
      </Group>
      {progress && (
        <Stack gap={4} data-testid="pull-progress">
          <Progress
            value={progress.total ? (100 * progress.done) / progress.total : 0}
            animated
            aria-label="Pull progress"
          />
          <Text size="sm" c="dimmed" data-testid="pull-progress-text">
            {PHASE_LABEL[progress.phase]}: {progress.done} of {progress.total} XPM calls,{" "}
            {formatEta(progress.etaSeconds)}.
          </Text>
        </Stack>
      )}
      {cancelled && (
        <Alert color="gray" data-testid="pull-cancelled">
          {cancelled}
        </Alert>
      )}
      <IntegrationError error={pull.error} />
      {report && <PullSummary report={report} />}
      <ReviewPanel groupId={groupId} review={review} />
      <Title order={4} mt="md">
        Last pulls
      </Title>
      {pulls && pulls.length === 0 && (
        <Text size="sm" c="dimmed">
          This group has not been pulled from XPM yet.
        </Text>
      )}
      {pulls && pulls.length > 0 && (
        <Table data-testid="sync-runs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Started</Table.Th>
              <Table.Th>Result</Table.Th>
              <Table.Th>XPM calls</Table.Th>
              <Table.Th>Changes</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {pulls.map((r) => (
              <Table.Tr key={r.id} data-testid="sync-run">
                <Table.Td>{formatDateTime(r.startedAt)}</Table.Td>
                <Table.Td>
                  <Badge color={RUN_STATUS[r.status].color} variant="light">
                    {RUN_STATUS[r.status].label}
                  </Badge>
                </Table.Td>
                <Table.Td>{r.calls}</Table.Td>
                <Table.Td>
                  <Text size="sm">
                    {r.summary ? describeCounts(r.summary as Partial<PullCounts>) : (r.error ?? "")}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
