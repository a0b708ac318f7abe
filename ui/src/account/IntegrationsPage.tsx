import { Stack, Title } from "@mantine/core";
import { useXeroOverview } from "../xero/api";
import { XeroSettingsCard } from "../xero/XeroSettingsCard";
import { XpmIntegrationCard } from "../xero/XpmIntegrationCard";

/** Account → Integrations: the Xero XPM connection and its settings. */
export function IntegrationsPage() {
  const overview = useXeroOverview();
  return (
    <Stack>
      <Title order={2}>Integrations</Title>
      <XpmIntegrationCard />
      {overview.data && <XeroSettingsCard simulated={overview.data.simulated} />}
    </Stack>
  );
}
