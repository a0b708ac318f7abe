import { Alert, Button, Card, Group, Stack, Switch, Text, TextInput, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { notifySuccess } from "../common/notify";
import { useBackend } from "../ipc/BackendProvider";
import type { XeroSettings } from "../ipc/bindings/XeroSettings";
import { errorMessage } from "../ipc/IpcError";
import { queryKeys } from "../queryKeys";
import { useSaveXeroSettings } from "./api";

/** Ports as the user types them: "47615, 47616". */
function parsePorts(text: string): number[] | null {
  const parts = text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const ports = parts.map(Number);
  return ports.length > 0 && ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536)
    ? ports
    : null;
}

/**
 * Xero settings: the firm's Xero app (client id — a PKCE app has no secret), the loopback ports
 * registered with it as `http://localhost:<port>/callback`, an optional https forwarder page,
 * read-only scopes, and the base URLs (Xero's by default; a simulator for testing).
 */
export function XeroSettingsCard({ simulated }: { simulated: boolean }) {
  const backend = useBackend();
  const settings = useQuery({
    queryKey: queryKeys.xeroSettings,
    queryFn: () => backend.xeroSettings(),
  });
  const save = useSaveXeroSettings();
  const [draft, setDraft] = useState<XeroSettings | null>(null);
  const [ports, setPorts] = useState("");
  useEffect(() => {
    if (settings.data) {
      setDraft(settings.data);
      setPorts(settings.data.redirectPorts.join(", "));
    }
  }, [settings.data]);
  if (!draft) return null;
  const parsedPorts = parsePorts(ports);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!parsedPorts) return;
    save.mutate(
      { ...draft, redirectPorts: parsedPorts },
      { onSuccess: () => notifySuccess("Xero settings saved.") },
    );
  };
  return (
    <Card withBorder padding="lg" maw={720} data-testid="xero-settings">
      <Title order={4} mb="xs">
        Xero settings
      </Title>
      {simulated ? (
        <Text size="sm" c="dimmed">
          The demo uses the built-in simulator; these settings apply when StructureGram runs without
          --demo.
        </Text>
      ) : (
        <form onSubmit={submit}>
          <Stack gap="sm">
            <TextInput
              label="Client id"
              description="From your Xero app (developer portal → My Apps). A PKCE app has no client secret."
              value={draft.clientId}
              onChange={(e) => setDraft({ ...draft, clientId: e.currentTarget.value })}
              data-testid="xero-client-id"
            />
            <TextInput
              label="Callback ports"
              description="Register http://localhost:<port>/callback for each with your Xero app; the first free one is used."
              value={ports}
              onChange={(e) => setPorts(e.currentTarget.value)}
              error={
                parsedPorts ? null : "Enter port numbers separated by commas, e.g. 47615, 47616."
              }
            />
            <TextInput
              label="https forwarder page (optional)"
              description="An https page registered with Xero that forwards to structuregram://oauth/callback; used instead of the ports."
              value={draft.httpsRedirectUri ?? ""}
              onChange={(e) =>
                setDraft({
                  ...draft,
                  httpsRedirectUri:
                    e.currentTarget.value.trim() === "" ? null : e.currentTarget.value,
                })
              }
            />
            <Switch
              label="Read-only access (StructureGram can pull but not push)"
              checked={draft.readOnly}
              onChange={(e) => setDraft({ ...draft, readOnly: e.currentTarget.checked })}
            />
            {save.isError && <Alert color="red">{errorMessage(save.error)}</Alert>}
            <Group>
              <Button type="submit" loading={save.isPending} disabled={!parsedPorts}>
                Save settings
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Card>
  );
}
