import {
  Alert,
  Anchor,
  Badge,
  Button,
  Center,
  Checkbox,
  Group,
  Loader,
  Paper,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useState } from "react";
import { IntegrationError, useIntegrationAction } from "../account/integrationAction";
import { routeHref } from "../app/router";
import { ErrorState } from "../common/ErrorState";
import { notifySuccess } from "../common/notify";
import { useGroups } from "../groups/api";
import { useBackend } from "../ipc/BackendProvider";
import type { CatalogRow } from "../ipc/bindings/CatalogRow";
import { useCatalog, useEstimate, useInvalidateXpm, useXeroOverview } from "./api";
import { BulkSyncCard } from "./BulkSyncCard";
import { formatDateTime } from "./format";

type LinkedFilter = "all" | "unlinked" | "linked";

/** Typical members of a client group when the catalog does not know (product-spec §8.5). */
const ASSUMED_MEMBERS = 6;

/** One catalog row's actions: Link (as a new group) or Link to Existing. */
function RowActions({
  row,
  unlinkedGroups,
}: {
  row: CatalogRow;
  unlinkedGroups: { value: string; label: string }[];
}) {
  const backend = useBackend();
  const refresh = useInvalidateXpm();
  const [existing, setExisting] = useState<string | null>(null);
  const linkNew = useIntegrationAction(
    () => backend.xpmLinkNew(row.xpmUuid),
    (link) => {
      notifySuccess(`Linked "${row.name}" to the new group "${link.groupName}".`);
      void refresh();
    },
  );
  const linkExisting = useIntegrationAction(
    () => backend.xpmLinkExisting(row.xpmUuid, Number(existing)),
    (link) => {
      notifySuccess(`Linked "${row.name}" to "${link.groupName}".`);
      setExisting(null);
      void refresh();
    },
  );
  if (row.linkedGroupId !== null) {
    return (
      <Anchor
        href={routeHref({ page: "group", groupId: row.linkedGroupId, tab: "xpm" })}
        size="sm"
        data-testid="catalog-linked-to"
      >
        {row.linkedGroupName}
      </Anchor>
    );
  }
  return (
    <Stack gap={4}>
      <Group gap="xs" wrap="nowrap">
        <Button
          size="xs"
          onClick={() => void linkNew.run()}
          loading={linkNew.pending}
          data-testid="catalog-link-new"
        >
          Link
        </Button>
        <Select
          size="xs"
          placeholder="Link to existing…"
          data={unlinkedGroups}
          value={existing}
          onChange={setExisting}
          searchable
          nothingFoundMessage="Every group is linked already"
          aria-label={`StructureGram group to link to ${row.name}`}
          data-testid="catalog-existing-select"
          w={200}
        />
        <Button
          size="xs"
          variant="light"
          disabled={existing === null}
          onClick={() => void linkExisting.run()}
          loading={linkExisting.pending}
          data-testid="catalog-link-existing"
        >
          Link to Existing
        </Button>
      </Group>
      {linkNew.ui}
      {linkExisting.ui}
      <IntegrationError error={linkNew.error ?? linkExisting.error} />
    </Stack>
  );
}

/**
 * Data → Import Groups from XPM: the practice's XPM client groups (discovered at connect, cached
 * here), searchable and filterable, each linked 1:1 to a new or an existing StructureGram group.
 * Linking never syncs; selecting groups shows what their first pull would cost under XPM's limits.
 * *Sync the whole practice* links (if asked) and pulls every group in one queue.
 */
export function ImportGroupsPage() {
  const backend = useBackend();
  const refreshQueries = useInvalidateXpm();
  const [search, setSearch] = useState("");
  const [linked, setLinked] = useState<LinkedFilter>("all");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const overview = useXeroOverview();
  const catalog = useCatalog({
    search: search.trim() === "" ? null : search.trim(),
    linked: linked === "all" ? null : linked === "linked",
  });
  const groups = useGroups();
  const estimate = useEstimate(selected.size, ASSUMED_MEMBERS);
  const refresh = useIntegrationAction(
    () => backend.xpmRefreshCatalog(),
    (c) => {
      notifySuccess(`Found ${c.rows.length} XPM client group${c.rows.length === 1 ? "" : "s"}.`);
      void refreshQueries();
    },
  );

  // Every linked row, whatever the filter, to offer only unlinked StructureGram groups.
  const linkedRows = useCatalog({ search: null, linked: true });
  const linkedIds = new Set((linkedRows.data?.rows ?? []).map((r) => r.linkedGroupId));
  const unlinkedGroups = (groups.data ?? [])
    .filter((g) => !linkedIds.has(g.id))
    .map((g) => ({ value: String(g.id), label: g.name }));
  const toggle = (uuid: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(uuid)) next.delete(uuid);
      else next.add(uuid);
      return next;
    });
  const connected = overview.data?.status.state === "connected";

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Import Groups from XPM</Title>
        <Button
          variant="light"
          onClick={() => void refresh.run()}
          loading={refresh.pending}
          disabled={!connected}
          data-testid="catalog-refresh"
        >
          Refresh
        </Button>
      </Group>
      {refresh.ui}
      <IntegrationError error={refresh.error} />
      {overview.data && !connected && (
        <Alert color="yellow" data-testid="catalog-not-connected">
          Not connected to Xero XPM.{" "}
          {catalog.data?.refreshedAt
            ? "The list below is from the last discovery; linking still works, while Refresh, pulling and pushing need a connection."
            : "Connect to discover the practice's client groups."}{" "}
          <Anchor href={routeHref({ page: "integrations" })}>Open Account → Integrations</Anchor>
        </Alert>
      )}
      {catalog.data?.lastError && (
        <Alert color="red" title="The last refresh failed" data-testid="catalog-last-error">
          {catalog.data.lastError} The list below is from the last refresh that worked.
        </Alert>
      )}
      <Text size="sm" c="dimmed" data-testid="catalog-refreshed-at">
        {catalog.data?.refreshedAt
          ? `XPM groups last refreshed ${formatDateTime(catalog.data.refreshedAt)}.`
          : "XPM groups have not been discovered yet."}
      </Text>
      <BulkSyncCard />
      <Group>
        <TextInput
          placeholder="Search XPM groups"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          data-testid="catalog-search"
          w={280}
        />
        <SegmentedControl
          value={linked}
          onChange={(v) => setLinked(v as LinkedFilter)}
          data={[
            { value: "all", label: "All" },
            { value: "unlinked", label: "Unlinked" },
            { value: "linked", label: "Linked" },
          ]}
        />
      </Group>
      {selected.size > 0 && estimate.data && (
        <Alert
          color={estimate.data.exceedsDayBudget ? "orange" : "blue"}
          data-testid="catalog-estimate"
        >
          <Text size="sm">
            {selected.size} group{selected.size === 1 ? "" : "s"} selected: their first pull takes
            about {estimate.data.calls} XPM calls, {estimate.data.minutes} minute
            {estimate.data.minutes === 1 ? "" : "s"} at XPM&apos;s limit of 60 calls a minute (
            {estimate.data.dayBudgetPercent}% of the practice&apos;s daily allowance).
          </Text>
          <Text size="sm" mt={4}>
            {estimate.data.advice}
          </Text>
        </Alert>
      )}
      {catalog.isPending && (
        <Center p="xl">
          <Loader aria-label="Loading XPM groups" />
        </Center>
      )}
      {catalog.isError && (
        <ErrorState
          title="Could not load the XPM groups"
          error={catalog.error}
          onRetry={() => void catalog.refetch()}
        />
      )}
      {catalog.data && catalog.data.rows.length === 0 && (
        <Paper withBorder p="xl" data-testid="catalog-empty">
          <Text c="dimmed" ta="center">
            {search || linked !== "all"
              ? "No XPM groups match."
              : "No XPM client groups yet. Connect to Xero XPM, then Refresh."}
          </Text>
        </Paper>
      )}
      {catalog.data && catalog.data.rows.length > 0 && (
        <Paper withBorder>
          <Table verticalSpacing="sm" data-testid="catalog-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40} />
                <Table.Th>XPM group</Table.Th>
                <Table.Th>Members</Table.Th>
                <Table.Th>StructureGram group</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {catalog.data.rows.map((row) => (
                <Table.Tr key={row.xpmUuid} data-testid="catalog-row">
                  <Table.Td>
                    <Checkbox
                      aria-label={`Select ${row.name}`}
                      checked={selected.has(row.xpmUuid)}
                      onChange={() => toggle(row.xpmUuid)}
                      disabled={row.linkedGroupId !== null}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" data-testid="catalog-name">
                      {row.name}
                    </Text>
                    {row.missingSince && (
                      <Badge color="orange" variant="light" size="sm">
                        No longer in XPM since {formatDateTime(row.missingSince)}
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{row.memberCount ?? "–"}</Text>
                  </Table.Td>
                  <Table.Td>
                    <RowActions row={row} unlinkedGroups={unlinkedGroups} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
    </Stack>
  );
}
