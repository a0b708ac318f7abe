import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  List,
  Loader,
  Modal,
  Radio,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { IntegrationError, useIntegrationAction } from "../account/integrationAction";
import { routeHref } from "../app/router";
import { ConfirmModal } from "../common/ConfirmModal";
import { ErrorState } from "../common/ErrorState";
import { notifySuccess } from "../common/notify";
import { useBackend } from "../ipc/BackendProvider";
import type { Attempt } from "../ipc/bindings/Attempt";
import type { ConnectResult } from "../ipc/bindings/ConnectResult";
import type { ConnectionStatus } from "../ipc/bindings/ConnectionStatus";
import type { TestOutcome } from "../ipc/bindings/TestOutcome";
import { errorMessage, IpcError } from "../ipc/IpcError";
import { invalidate } from "../queryKeys";
import { useXeroOverview } from "./api";
import { formatDateTime } from "./format";

function StatusBadge({ status }: { status: ConnectionStatus }) {
  switch (status.state) {
    case "connected":
      return (
        <Badge color="green" data-testid="xpm-status">
          Connected
        </Badge>
      );
    case "needsReconnect":
      return (
        <Badge color="orange" data-testid="xpm-status">
          Needs reconnect
        </Badge>
      );
    case "disconnected":
      return (
        <Badge color="gray" variant="light" data-testid="xpm-status">
          Not connected
        </Badge>
      );
  }
}

/** The step after Xero's page: which practice, or confirm switching practice. */
function ChooseTenantModal({
  result,
  onDone,
  onCancel,
}: {
  result: ConnectResult | null;
  onDone: (r: ConnectResult) => void;
  onCancel: () => void;
}) {
  const backend = useBackend();
  const [tenantId, setTenantId] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const completion = result?.completion;
  const choose = async (id: string, confirmSwitch: boolean) => {
    setPending(true);
    setError(null);
    try {
      onDone(await backend.xeroChooseTenant(id, confirmSwitch));
    } catch (e) {
      setError(e);
    } finally {
      setPending(false);
    }
  };
  if (completion?.outcome === "chooseTenant") {
    const tenants = [...completion.tenants].sort((a, b) =>
      a.tenantName.localeCompare(b.tenantName),
    );
    return (
      <Modal opened onClose={onCancel} title="Choose the XPM practice" centered>
        <Stack>
          <Text size="sm">
            You gave StructureGram access to more than one Xero Practice Manager practice. Choose
            the one this organisation works with.
          </Text>
          <Radio.Group value={tenantId} onChange={setTenantId}>
            <Stack gap="xs">
              {tenants.map((t) => (
                <Radio key={t.tenantId} value={t.tenantId} label={t.tenantName} />
              ))}
            </Stack>
          </Radio.Group>
          {error !== null && <Alert color="red">{errorMessage(error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
            <Button
              disabled={!tenantId}
              loading={pending}
              onClick={() => tenantId && void choose(tenantId, false)}
            >
              Connect
            </Button>
          </Group>
        </Stack>
      </Modal>
    );
  }
  if (completion?.outcome === "confirmSwitch") {
    return (
      <Modal opened onClose={onCancel} title="Connect a different practice?" centered>
        <Stack>
          <Alert color="orange">
            This organisation was connected to <b>{completion.previous.tenantName}</b>, and you
            chose <b>{completion.chosen.tenantName}</b>. Groups linked to the first practice would
            be compared with the second one&apos;s clients, mixing two practices&apos; data. Unlink
            them first, or reconnect as a user of {completion.previous.tenantName}.
          </Alert>
          {error !== null && <Alert color="red">{errorMessage(error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
            <Button
              color="orange"
              loading={pending}
              onClick={() => void choose(completion.chosen.tenantId, true)}
            >
              Connect {completion.chosen.tenantName} anyway
            </Button>
          </Group>
        </Stack>
      </Modal>
    );
  }
  return null;
}

function TestResult({ outcome }: { outcome: TestOutcome }) {
  if (outcome.result === "success") {
    return (
      <Alert color="green" data-testid="xpm-test-result">
        <Badge color="green" mr="xs">
          Organisation API: Success
        </Badge>
        {outcome.tenantName} answered with {outcome.clientGroups} client group
        {outcome.clientGroups === 1 ? "" : "s"}.
      </Alert>
    );
  }
  return (
    <Alert color="red" title="Organisation API: Failed" data-testid="xpm-test-result">
      <Text size="sm">{outcome.message}</Text>
      {outcome.checks.length > 0 && (
        <>
          <Text size="sm" mt="xs">
            Check that:
          </Text>
          <List size="sm">
            {outcome.checks.map((c) => (
              <List.Item key={c}>{c}</List.Item>
            ))}
          </List>
        </>
      )}
    </Alert>
  );
}

/**
 * The "Xero XPM Integration" card of Account → Integrations: connect (through the two-factor
 * gate, the system browser and Xero's consent page), the connection's state, *Test Organisation
 * API*, linked groups and discovery time, disconnect and reconnect.
 */
export function XpmIntegrationCard() {
  const backend = useBackend();
  const qc = useQueryClient();
  const overview = useXeroOverview();
  const [attempt, setAttempt] = useState<Attempt | null>(null);
  const [waitError, setWaitError] = useState<unknown>(null);
  const [choice, setChoice] = useState<ConnectResult | null>(null);
  const [testOutcome, setTestOutcome] = useState<TestOutcome | null>(null);
  const [confirmDisconnect, setConfirmDisconnect] = useState(false);

  const finished = (result: ConnectResult) => {
    setChoice(null);
    if (result.completion.outcome === "connected") {
      const found =
        result.discovered !== null
          ? ` ${result.discovered} XPM client group${result.discovered === 1 ? "" : "s"} found.`
          : "";
      notifySuccess(`Connected to ${result.completion.tenant.tenantName}.${found}`);
      if (result.discoveryError) setWaitError(new Error(result.discoveryError));
      void invalidate.xpmChanged(qc);
    } else {
      setChoice(result);
    }
  };

  const connect = useIntegrationAction(
    () => backend.xeroConnect(),
    (started) => {
      setAttempt(started);
      setWaitError(null);
      setTestOutcome(null);
      backend
        .xeroWait()
        .then(finished)
        .catch((e: unknown) => setWaitError(e))
        .finally(() => setAttempt(null));
    },
  );
  const test = useIntegrationAction(
    () => backend.xeroTest(),
    (outcome) => setTestOutcome(outcome),
  );
  const disconnect = useIntegrationAction(
    () => backend.xeroDisconnect(),
    (outcome) => {
      setConfirmDisconnect(false);
      setTestOutcome(null);
      notifySuccess(outcome.message);
      void invalidate.xpmChanged(qc);
    },
  );

  // When Xero turns out to have dropped the connection, show it at once (badge, Reconnect).
  const testError = test.error;
  useEffect(() => {
    if (
      [testError, waitError].some(
        (e) => e !== null && IpcError.from(e).code === "reconnectRequired",
      )
    )
      void invalidate.xpmChanged(qc);
  }, [testError, waitError, qc]);

  if (overview.isError) {
    return (
      <ErrorState
        title="Could not read the Xero connection"
        error={overview.error}
        onRetry={() => void overview.refetch()}
      />
    );
  }
  const data = overview.data;
  const status = data?.status;
  const connected = status?.state === "connected";

  return (
    <Card withBorder padding="lg" maw={720} data-testid="xpm-card">
      <Group justify="space-between" mb="xs">
        <Title order={4}>Xero XPM Integration</Title>
        {status ? <StatusBadge status={status} /> : <Loader size="xs" />}
      </Group>
      <Stack gap="sm">
        {data?.simulated && (
          <Alert color="blue" variant="light" data-testid="xpm-simulated">
            Demo: &ldquo;Xero&rdquo; here is StructureGram&apos;s built-in simulator of Xero
            Practice Manager, running on this computer. Sign in on its page as{" "}
            <Code>demo@practice.example</Code> with password <Code>demo</Code>. Its data starts
            afresh each time the app starts.
          </Alert>
        )}
        {status?.state === "connected" && (
          <Stack gap={2}>
            <Text size="sm" data-testid="xpm-tenant">
              Connected to <b>{status.tenantName}</b> since {formatDateTime(status.connectedAt)}.
            </Text>
            {status.refreshExpiresAt && (
              <Text size="sm" c="dimmed">
                Unless StructureGram uses the connection again, it expires on{" "}
                {formatDateTime(status.refreshExpiresAt)}.
              </Text>
            )}
          </Stack>
        )}
        {status?.state === "needsReconnect" && (
          <Alert color="orange" data-testid="xpm-needs-reconnect">
            Xero no longer accepts the connection to {status.tenantName} (it expired after 60 days
            unused, or was revoked). Reconnect to carry on: your groups and links are kept.
          </Alert>
        )}
        {status?.state === "disconnected" && (
          <Text size="sm" c="dimmed">
            Link your Xero Practice Manager clients and client groups to StructureGram to pull and
            push business structures. Connecting needs two-factor authentication.
          </Text>
        )}
        {data && !data.configured && (
          <Alert color="yellow">
            Enter your Xero app&apos;s client id in the Xero settings below before connecting (see
            &ldquo;Using it with your Xero Practice Manager&rdquo; in the README).
          </Alert>
        )}
        {data && (
          <Text size="sm" data-testid="xpm-summary">
            Linked groups: {data.linkedGroups}. XPM groups last discovered:{" "}
            {data.catalogRefreshedAt ? formatDateTime(data.catalogRefreshedAt) : "never"}.
          </Text>
        )}
        {connect.ui}
        {test.ui}
        {disconnect.ui}
        <IntegrationError error={connect.error} />
        <IntegrationError error={waitError} />
        <IntegrationError error={test.error} />
        {attempt && (
          <Alert color="blue" title="Waiting for Xero…" data-testid="xpm-waiting">
            <Stack gap="xs">
              <Text size="sm">
                Sign in to Xero in the browser window that opened and choose <b>Allow access</b>.
                Then come back here.
              </Text>
              <Text size="sm">
                No browser window?{" "}
                <Anchor href={attempt.authorizeUrl} target="_blank" data-testid="xpm-auth-url">
                  Open Xero&apos;s page
                </Anchor>
                .
              </Text>
              <Group>
                <Button size="xs" variant="default" onClick={() => void backend.xeroCancel()}>
                  Cancel
                </Button>
              </Group>
            </Stack>
          </Alert>
        )}
        {testOutcome && <TestResult outcome={testOutcome} />}
        <Group>
          {!connected && (
            <Button
              onClick={() => void connect.run()}
              loading={connect.pending || attempt !== null}
              data-testid="connect-xpm"
            >
              {status?.state === "needsReconnect" ? "Reconnect to Xero XPM" : "Connect to Xero XPM"}
            </Button>
          )}
          {connected && (
            <>
              <Button
                variant="light"
                onClick={() => void test.run()}
                loading={test.pending}
                data-testid="xpm-test"
              >
                Test Organisation API
              </Button>
              <Button component="a" variant="light" href={routeHref({ page: "importGroups" })}>
                Import Groups
              </Button>
              <Button
                variant="subtle"
                color="red"
                onClick={() => setConfirmDisconnect(true)}
                data-testid="xpm-disconnect"
              >
                Disconnect
              </Button>
            </>
          )}
        </Group>
      </Stack>
      <ChooseTenantModal
        result={choice}
        onDone={finished}
        onCancel={() => {
          setChoice(null);
          void backend.xeroCancel();
        }}
      />
      <ConfirmModal
        opened={confirmDisconnect}
        title="Disconnect from Xero XPM?"
        confirmLabel="Disconnect"
        onConfirm={() => void disconnect.run()}
        onClose={() => setConfirmDisconnect(false)}
        loading={disconnect.pending}
        error={disconnect.error}
      >
        StructureGram will revoke its access at Xero and forget the connection&apos;s keys. Your
        groups, entities, links to XPM groups and client mappings all stay; reconnect to the same
        practice to carry on where you left off.
      </ConfirmModal>
    </Card>
  );
}
