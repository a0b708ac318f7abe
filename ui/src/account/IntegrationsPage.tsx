import { Stack, Title } from "@mantine/core";
import { XpmIntegrationCard } from "../xero/XpmIntegrationCard";

/** Account → Integrations. */
export function IntegrationsPage() {
  return (
    <Stack>
      <Title order={2}>Integrations</Title>
      <XpmIntegrationCard />
    </Stack>
  );
}
