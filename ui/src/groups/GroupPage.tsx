import { Anchor, Box, Breadcrumbs, Button, Group, Stack, Tabs, Text, Title } from "@mantine/core";
import { useState } from "react";
import { navigate, routeHref, type GroupTab } from "../app/router";
import { ErrorState } from "../common/ErrorState";
import { DiagramTab, type AsAtState } from "../diagram/DiagramTab";
import { EntitiesTable } from "../entities/EntitiesTable";
import { RelationshipsTab } from "../relationships/RelationshipsTab";
import { GroupXpmTab } from "../xero/GroupXpmTab";
import { useGroups } from "./api";
import { AssignEntitiesModal } from "./AssignEntitiesModal";

/** The tab is part of the route (#/groups/3/entities) so it survives reloads. */
export function GroupPage({ groupId, tab }: { groupId: number; tab: GroupTab }) {
  const groups = useGroups();
  const group = groups.data?.find((g) => g.id === groupId);
  const setTab = (t: string | null) =>
    navigate({ page: "group", groupId, tab: (t ?? "diagram") as GroupTab });
  const [asAt, setAsAt] = useState<AsAtState>({ text: "", applied: null });
  const [assigning, setAssigning] = useState(false);

  if (groups.isError) {
    return (
      <ErrorState
        title="Could not load the group"
        error={groups.error}
        onRetry={() => void groups.refetch()}
      />
    );
  }
  if (groups.data && !group) {
    return (
      <Stack>
        <Text>This group no longer exists.</Text>
        <Anchor href={routeHref({ page: "groups" })}>Back to groups</Anchor>
      </Stack>
    );
  }

  return (
    <Stack gap="sm" h="calc(100vh - 52px - 2 * var(--mantine-spacing-md))">
      <Group justify="space-between">
        <Box>
          <Breadcrumbs>
            <Anchor href={routeHref({ page: "groups" })} size="sm">
              Groups
            </Anchor>
            <Text size="sm">{group?.name ?? "…"}</Text>
          </Breadcrumbs>
          <Title order={2} data-testid="group-title">
            {group?.name ?? "Loading…"}
          </Title>
        </Box>
        <Button variant="default" onClick={() => setAssigning(true)} disabled={!group}>
          Assign entities
        </Button>
      </Group>
      <Tabs
        value={tab}
        onChange={setTab}
        keepMounted={false}
        style={{ flex: 1, display: "flex", flexDirection: "column", minHeight: 0 }}
      >
        <Tabs.List>
          <Tabs.Tab value="diagram" data-testid="tab-diagram">
            Diagram
          </Tabs.Tab>
          <Tabs.Tab value="entities" data-testid="tab-entities">
            Entities {group ? `(${group.entityCount})` : ""}
          </Tabs.Tab>
          <Tabs.Tab value="relationships" data-testid="tab-relationships">
            Relationships {group ? `(${group.relationshipCount})` : ""}
          </Tabs.Tab>
          <Tabs.Tab value="xpm" data-testid="tab-xpm">
            XPM
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="diagram" pt="sm" style={{ flex: 1, minHeight: 0 }}>
          <DiagramTab groupId={groupId} asAt={asAt} onAsAtChange={setAsAt} />
        </Tabs.Panel>
        <Tabs.Panel value="entities" pt="sm">
          <EntitiesTable groupId={groupId} />
        </Tabs.Panel>
        <Tabs.Panel value="relationships" pt="sm">
          <RelationshipsTab groupId={groupId} />
        </Tabs.Panel>
        <Tabs.Panel value="xpm" pt="sm">
          {group && <GroupXpmTab groupId={groupId} groupName={group.name} />}
        </Tabs.Panel>
      </Tabs>
      <AssignEntitiesModal
        group={assigning && group ? group : null}
        onClose={() => setAssigning(false)}
      />
    </Stack>
  );
}
