import { Alert, Button, Group, Menu, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { navigate } from "../app/router";
import { notifyError } from "../common/notify";
import { useBackend } from "../ipc/BackendProvider";
import type { AuthStatus } from "../ipc/bindings/AuthStatus";
import { errorMessage } from "../ipc/IpcError";
import { invalidate } from "../queryKeys";
import { useAuthStatus } from "./AuthGate";

/** The header's account menu: who, the organisation switcher, new organisation, lock, sign out. */
export function UserMenu() {
  const backend = useBackend();
  const queryClient = useQueryClient();
  const auth = useAuthStatus();
  const [creating, setCreating] = useState(false);
  const change = useMutation({
    mutationFn: (action: () => Promise<AuthStatus>) => action(),
    onSuccess: (next) => invalidate.sessionChanged(queryClient, next),
    onError: (error) => notifyError("Could not change the account", error),
  });
  const status = auth.data;
  if (!status?.user) return null;
  const active = status.activeOrganisation;

  return (
    <>
      <Menu position="bottom-end" width={260} withinPortal>
        <Menu.Target>
          <Button variant="subtle" color="gray" data-testid="user-menu">
            <Stack gap={0} align="flex-end">
              <Text size="sm" fw={600} data-testid="user-name">
                {status.user.username}
              </Text>
              <Text size="xs" c="dimmed" data-testid="active-organisation">
                {active?.name ?? "No organisation"}
              </Text>
            </Stack>
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Label>Organisations</Menu.Label>
          {status.organisations.map((o) => (
            <Menu.Item
              key={o.id}
              data-testid="organisation-item"
              fw={o.id === active?.id ? 600 : undefined}
              rightSection={o.id === active?.id ? "✓" : undefined}
              onClick={() => {
                if (o.id !== active?.id) {
                  change.mutate(() => backend.switchOrganisation(o.id));
                  navigate({ page: "groups" });
                }
              }}
            >
              {o.name}
            </Menu.Item>
          ))}
          <Menu.Item onClick={() => setCreating(true)} data-testid="new-organisation">
            New organisation…
          </Menu.Item>
          <Menu.Divider />
          <Menu.Label>Account</Menu.Label>
          <Menu.Item onClick={() => navigate({ page: "security" })}>Security</Menu.Item>
          <Menu.Item onClick={() => navigate({ page: "integrations" })}>Integrations</Menu.Item>
          <Menu.Divider />
          <Menu.Item onClick={() => change.mutate(() => backend.lock())} data-testid="lock">
            Lock
          </Menu.Item>
          <Menu.Item onClick={() => change.mutate(() => backend.signOut())} data-testid="sign-out">
            Sign out
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
      <NewOrganisationModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(next) => {
          setCreating(false);
          invalidate.sessionChanged(queryClient, next);
          navigate({ page: "groups" });
        }}
      />
    </>
  );
}

function NewOrganisationModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (status: AuthStatus) => void;
}) {
  const backend = useBackend();
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => backend.createOrganisation(name),
    onSuccess: (next) => {
      setName("");
      onCreated(next);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Modal opened={opened} onClose={onClose} title="New organisation">
      <form onSubmit={submit}>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            A separate practice with its own groups and entities. You will switch to it.
          </Text>
          <TextInput
            label="Organisation name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            data-testid="new-organisation-name"
            data-autofocus
          />
          {create.isError && (
            <Alert color="red" role="alert">
              {errorMessage(create.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} data-testid="new-organisation-submit">
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
