import {
  Alert,
  Anchor,
  Badge,
  Button,
  Center,
  Group,
  Loader,
  Select,
  Stack,
  Text,
} from "@mantine/core";
import { useState } from "react";
import { IntegrationError, useIntegrationAction } from "../account/integrationAction";
import { routeHref } from "../app/router";
import { ConfirmModal } from "../common/ConfirmModal";
import { ErrorState } from "../common/ErrorState";
import { notifySuccess } from "../common/notify";
import { useBackend } from "../ipc/BackendProvider";
import { useCatalog, useGroupLink, useInvalidateXpm } from "./api";
import { formatDateTime } from "./format";
import { PullSection } from "./PullSection";
import { PushSection } from "./PushSection";
import { ReconcileSection } from "./ReconcileSection";

/**
 * A group's XPM tab: which XPM client group it is linked to (and when it was last pulled), or a
 * picker of unlinked XPM groups to link it to. Unlinking keeps every entity and mapping.
 */
export function GroupXpmTab({ groupId, groupName }: { groupId: number; groupName: string }) {
  const backend = useBackend();
  const refresh = useInvalidateXpm();
  const link = useGroupLink(groupId);
  const unlinked = useCatalog({ search: null, linked: false });
  const [xpmUuid, setXpmUuid] = useState<string | null>(null);
  const [confirmUnlink, setConfirmUnlink] = useState(false);
  const doLink = useIntegrationAction(
    () => backend.xpmLinkExisting(xpmUuid ?? "", groupId),
    (l) => {
      notifySuccess(`Linked "${groupName}" to the XPM group "${l.xpmName ?? l.xpmUuid}".`);
      setXpmUuid(null);
      void refresh();
    },
  );
  const doUnlink = useIntegrationAction(
    () => backend.xpmUnlink(groupId),
    () => {
      setConfirmUnlink(false);
      notifySuccess(`"${groupName}" is no longer linked to XPM. Its entities are unchanged.`);
      void refresh();
    },
  );

  if (link.isPending) {
    return (
      <Center p="xl">
        <Loader aria-label="Loading the XPM link" />
      </Center>
    );
  }
  if (link.isError) {
    return (
      <ErrorState
        title="Could not load the XPM link"
        error={link.error}
        onRetry={() => void link.refetch()}
      />
    );
  }
  const current = link.data;
  if (current) {
    return (
      <Stack maw={860} data-testid="group-xpm-linked">
        <Group>
          <Badge color="green">Linked</Badge>
          <Text size="sm">
            XPM group <b data-testid="group-xpm-name">{current.xpmName ?? current.xpmUuid}</b>
          </Text>
        </Group>
        {current.xpmMissingSince && (
          <Alert color="orange">
            This group was not in XPM at the refresh of {formatDateTime(current.xpmMissingSince)}:
            it may have been deleted or renamed there. Unlink it, or check in XPM.
          </Alert>
        )}
        <Text size="sm" c="dimmed">
          Linked {formatDateTime(current.linkedAt)}.{" "}
          {current.lastPullAt
            ? `Last pulled ${formatDateTime(current.lastPullAt)}.`
            : "Not pulled from XPM yet."}
        </Text>
        <PullSection groupId={groupId} />
        <PushSection groupId={groupId} />
        <ReconcileSection groupId={groupId} />
        {doUnlink.ui}
        <Group mt="md">
          <Button
            variant="subtle"
            color="red"
            onClick={() => setConfirmUnlink(true)}
            data-testid="group-xpm-unlink"
          >
            Unlink
          </Button>
        </Group>
        <ConfirmModal
          opened={confirmUnlink}
          title="Unlink from XPM?"
          confirmLabel="Unlink"
          onConfirm={() => void doUnlink.run()}
          onClose={() => setConfirmUnlink(false)}
          loading={doUnlink.pending}
          error={doUnlink.error}
        >
          &ldquo;{groupName}&rdquo; will no longer be linked to the XPM group &ldquo;
          {current.xpmName ?? current.xpmUuid}&rdquo;. Nothing is deleted: the group, its entities,
          relationships and their XPM client mappings all stay, so linking again carries on where
          you left off.
        </ConfirmModal>
      </Stack>
    );
  }
  const options = (unlinked.data?.rows ?? []).map((r) => ({ value: r.xpmUuid, label: r.name }));
  return (
    <Stack maw={640} data-testid="group-xpm-unlinked">
      <Text size="sm">
        This group is not linked to an XPM client group. Link it to pull its clients and
        relationships from XPM and push changes back. Linking itself changes nothing in either.
      </Text>
      {unlinked.data && options.length === 0 && (
        <Alert color="yellow">
          No unlinked XPM groups are known.{" "}
          <Anchor href={routeHref({ page: "importGroups" })}>Open Import Groups</Anchor> and
          Refresh, or{" "}
          <Anchor href={routeHref({ page: "integrations" })}>connect to Xero XPM</Anchor> first.
        </Alert>
      )}
      {doLink.ui}
      <IntegrationError error={doLink.error} />
      <Group align="end">
        <Select
          label="XPM client group"
          placeholder="Choose an XPM group"
          data={options}
          value={xpmUuid}
          onChange={setXpmUuid}
          searchable
          w={320}
          data-testid="group-xpm-select"
        />
        <Button
          disabled={xpmUuid === null}
          onClick={() => void doLink.run()}
          loading={doLink.pending}
          data-testid="group-xpm-link"
        >
          Link
        </Button>
      </Group>
    </Stack>
  );
}
