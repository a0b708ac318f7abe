import { Button, Group, Modal, Stack, TextInput } from "@mantine/core";
import { useEffect, useState } from "react";
import { errorMessage } from "../ipc/IpcError";

/** Create or rename a group. The backend's error (e.g. a duplicate name) is shown on the field. */
export function GroupNameModal(props: {
  opened: boolean;
  title: string;
  submitLabel: string;
  initialName?: string;
  onClose: () => void;
  onSubmit: (name: string) => Promise<unknown>;
}) {
  const { opened, initialName } = props;
  const [name, setName] = useState(initialName ?? "");
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (opened) {
      setName(initialName ?? "");
      setError(null);
    }
  }, [opened, initialName]);

  const submit = async () => {
    if (name.trim() === "") {
      setError("Enter a name for the group.");
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await props.onSubmit(name.trim());
      props.onClose();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal opened={opened} onClose={props.onClose} title={props.title} centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack>
          <TextInput
            label="Group name"
            placeholder="e.g. Smith Family Group"
            required
            data-autofocus
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={error}
            data-testid="group-name-input"
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose} disabled={saving}>
              Cancel
            </Button>
            <Button type="submit" loading={saving} data-testid="group-name-submit">
              {props.submitLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
