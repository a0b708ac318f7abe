import { Alert, Badge, Button, Card, Group, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useBackend } from "../ipc/BackendProvider";
import { IntegrationError, useIntegrationAction } from "./integrationAction";

/**
 * The "Xero XPM Integration" card. Connecting runs the integration gate today; issue 6 replaces
 * `connect` below with the real connect command (which runs the same gate first) and fills in
 * the connected state.
 */
export function XpmIntegrationCard() {
  const backend = useBackend();
  const [gatePassed, setGatePassed] = useState(false);
  const connect = useIntegrationAction(
    () => backend.integrationGate(),
    () => setGatePassed(true),
  );
  return (
    <Card withBorder padding="lg" maw={640} data-testid="xpm-card">
      <Group justify="space-between" mb="xs">
        <Title order={4}>Xero XPM Integration</Title>
        <Badge color="gray" variant="light">
          Not connected
        </Badge>
      </Group>
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          Link your Xero Practice Manager clients and client groups to StructureGram to pull and
          push business structures. Connecting needs two-factor authentication.
        </Text>
        {connect.ui}
        <IntegrationError error={connect.error} />
        {gatePassed && (
          <Alert color="green" data-testid="integration-gate-passed">
            Two-factor check passed. This session may now connect to Xero XPM.
          </Alert>
        )}
        <Group>
          <Button
            onClick={() => void connect.run()}
            loading={connect.pending}
            data-testid="connect-xpm"
          >
            Connect to Xero XPM
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

/** Account → Integrations. */
export function IntegrationsPage() {
  return (
    <Stack>
      <Title order={2}>Integrations</Title>
      <XpmIntegrationCard />
    </Stack>
  );
}
