import {
  Alert,
  Anchor,
  Button,
  Checkbox,
  Group,
  Paper,
  Progress,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { IntegrationError, useIntegrationAction } from "../account/integrationAction";
import { routeHref } from "../app/router";
import { useBackend } from "../ipc/BackendProvider";
import type { BulkOverview } from "../ipc/bindings/BulkOverview";
import type { BulkProgress } from "../ipc/bindings/BulkProgress";
import type { BulkReport } from "../ipc/bindings/BulkReport";
import type { BulkReview } from "../ipc/bindings/BulkReview";
import { invalidate } from "../queryKeys";
import { useXeroOverview } from "./api";
import { useBulkStatus } from "./bulkApi";
import { formatEta } from "./PullSection";

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "under a minute" / "about 14 minutes" (never "0 minutes"). */
function minutes(seconds: number): string {
  return seconds < 60 ? "under a minute" : `about ${plural(Math.ceil(seconds / 60), "minute")}`;
}

/** The plan line: what *Start* would sync and what it costs within XPM's limits. */
function planLine(o: BulkOverview, linkUnlinked: boolean): string | null {
  const n = o.next;
  const plan = linkUnlinked ? n.planWithUnlinked : n.plan;
  if (!plan) return null;
  const eta = linkUnlinked ? n.etaWithUnlinkedSeconds : n.etaSeconds;
  const linking = linkUnlinked && n.unlinked > 0;
  const cost = `about ${plural(plan.calls, "XPM call")}, ${minutes(eta)} within XPM's limits.`;
  if (linking) {
    return `Links ${plural(n.unlinked, "XPM group")} as new StructureGram groups, then syncs ${plural(plan.groups, "group")}: ${cost}`;
  }
  return `${plural(plan.groups, n.resumable > 0 ? "remaining group" : "linked group")}: ${cost}`;
}

/** The progress bar and its line, or the calm line while XPM's rate limit is waited out. */
function ProgressLine({ progress }: { progress: BulkProgress }) {
  const waiting = progress.waitingSeconds !== null;
  const until = progress.waitingUntil
    ? clock.format(new Date(progress.waitingUntil))
    : `in ${progress.waitingSeconds} s`;
  return (
    <Stack gap={4} data-testid="bulk-progress">
      <Progress
        value={progress.groupsTotal ? (100 * progress.groupsDone) / progress.groupsTotal : 0}
        animated
        aria-label="Sync progress"
      />
      <Text size="sm" c="dimmed" data-testid="bulk-progress-text">
        {progress.groupsDone} of {plural(progress.groupsTotal, "group")} ·{" "}
        {formatEta(progress.etaSeconds)}
      </Text>
      {waiting && (
        <Text size="sm" data-testid="bulk-waiting">
          XPM&apos;s minute limit reached — carrying on at {until}; nothing failed.
        </Text>
      )}
    </Stack>
  );
}

/** "2 items need your input, 1 item waits on them, 2 are ready to apply" (only what is there). */
function reviewLine(r: BulkReview): string {
  const parts = [];
  if (r.needsInput > 0)
    parts.push(`${plural(r.needsInput, "item needs", "items need")} your input`);
  if (r.waiting > 0) parts.push(`${plural(r.waiting, "item waits", "items wait")} on them`);
  if (r.ready > 0) {
    parts.push(
      `${parts.length > 0 ? r.ready : plural(r.ready, "item")} ${r.ready === 1 ? "is" : "are"} ready to apply`,
    );
  }
  return parts.join(", ");
}

/** One line per group — its name linking to its XPM tab, then `text` — or nothing when empty. */
function GroupLines({
  lines,
  testId,
}: {
  lines: { groupId: number; groupName: string; text: string }[];
  testId: string;
}) {
  if (lines.length === 0) return null;
  return (
    <Stack gap={4} mt="xs">
      {lines.map((l) => (
        <Text size="sm" key={l.groupId} data-testid={testId}>
          <Anchor href={routeHref({ page: "group", groupId: l.groupId, tab: "xpm" })}>
            {l.groupName}
          </Anchor>
          : {l.text}
        </Text>
      ))}
    </Stack>
  );
}

/**
 * The finished run: its message; per failed group, what went wrong; per group whose pull left
 * items to review, how many — each with a link to the group's XPM tab.
 */
function BulkResult({ report }: { report: BulkReport }) {
  const failed = report.failures.length > 0;
  const color = failed ? "orange" : report.outcome === "finished" ? "green" : "gray";
  return (
    <Alert color={color} data-testid="bulk-result">
      <Text size="sm">{report.message}</Text>
      <GroupLines
        testId="bulk-failure"
        lines={report.failures.map((f) => ({ ...f, text: f.message }))}
      />
      <GroupLines
        testId="bulk-to-review"
        lines={report.toReview.map((r) => ({ ...r, text: reviewLine(r) }))}
      />
    </Alert>
  );
}

/**
 * Import Groups → *Sync the whole practice* (issue 11): the plan in plain words, an option to
 * link every unlinked XPM group first, *Start*, a progress bar with the time left (and a calm
 * line while XPM's rate limit is waited out), *Stop* (the rest stays queued), the result with
 * each failed group's message, and *Resume* for a queue an earlier run left.
 */
export function BulkSyncCard() {
  const backend = useBackend();
  const qc = useQueryClient();
  const overview = useXeroOverview();
  const status = useBulkStatus();
  const [linkUnlinked, setLinkUnlinked] = useState(false);
  const [progress, setProgress] = useState<BulkProgress | null>(null);
  const [report, setReport] = useState<BulkReport | null>(null);
  const [stopping, setStopping] = useState(false);

  const start = useIntegrationAction(
    async () => {
      setReport(null);
      try {
        return await backend.xpmBulkStart(linkUnlinked, setProgress);
      } finally {
        setProgress(null);
        setStopping(false);
        void invalidate.pulled(qc);
      }
    },
    (r) => {
      setReport(r);
      setLinkUnlinked(false);
    },
  );
  const stop = async () => {
    setStopping(true);
    await backend.xpmBulkCancel();
    void qc.invalidateQueries({ queryKey: ["xpm", "bulk"] });
  };

  const connected = overview.data?.status.state === "connected";
  const o = status.data;
  const running = start.pending || (o?.running ?? false);
  const left = o?.queue.queued ?? 0;
  const stopped = o?.lastStop && left > 0 && !running && !report ? o.lastStop : null;
  const nothing = o && o.next.linked === 0 && o.next.unlinked === 0 && left === 0;
  const line = o ? planLine(o, linkUnlinked) : null;

  let body;
  if (overview.data && !connected) {
    body = (
      <Text size="sm" data-testid="bulk-not-connected">
        Not connected to Xero XPM: connect first, then sync every linked group here.{" "}
        <Anchor href={routeHref({ page: "integrations" })}>Open Account → Integrations</Anchor>
      </Text>
    );
  } else if (status.isError) {
    body = <IntegrationError error={status.error} />;
  } else if (!o) {
    body = null;
  } else if (nothing && !report) {
    body = (
      <Text size="sm" c="dimmed" data-testid="bulk-empty">
        No linked groups and no XPM groups to link yet. Refresh the list of XPM groups above; once
        there are some, sync them all from here.
      </Text>
    );
  } else {
    body = (
      <Stack gap="sm">
        {stopped && (
          <Alert
            color={stopped.reason === "dayLimit" ? "yellow" : "orange"}
            data-testid="bulk-stopped"
          >
            {stopped.reason === "interrupted"
              ? `A sync of ${plural(left, "remaining group")} was interrupted.`
              : stopped.message}{" "}
            Resume it to carry on where it stopped.
          </Alert>
        )}
        {!running && line && (
          <Text size="sm" data-testid="bulk-plan">
            {line}
          </Text>
        )}
        {!running && o.next.unlinked > 0 && (
          <Checkbox
            label={`Also link the ${plural(o.next.unlinked, "unlinked XPM group")} as new StructureGram groups`}
            checked={linkUnlinked}
            onChange={(e) => setLinkUnlinked(e.currentTarget.checked)}
            data-testid="bulk-link-unlinked"
          />
        )}
        <Group>
          {!running && (
            <Button onClick={() => void start.run()} disabled={!line} data-testid="bulk-start">
              {left > 0 ? "Resume" : "Start"}
            </Button>
          )}
          {running && (
            <Button
              variant="default"
              onClick={() => void stop()}
              loading={stopping}
              data-testid="bulk-stop"
            >
              Stop
            </Button>
          )}
          {running && !progress && (
            <Text size="sm" c="dimmed" data-testid="bulk-running">
              {stopping ? "Stopping after the group in flight…" : "Syncing the whole practice…"}
            </Text>
          )}
        </Group>
        {progress && <ProgressLine progress={progress} />}
        {progress && stopping && (
          <Text size="sm" c="dimmed">
            Stopping after the group in flight; the rest stays queued.
          </Text>
        )}
      </Stack>
    );
  }

  return (
    <Paper withBorder p="md" data-testid="bulk-card">
      <Stack gap="sm">
        <Title order={4}>Sync the whole practice</Title>
        {start.ui}
        {body}
        <IntegrationError error={start.error} />
        {report && <BulkResult report={report} />}
      </Stack>
    </Paper>
  );
}
