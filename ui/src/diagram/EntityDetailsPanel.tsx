import {
  Badge,
  CloseButton,
  Group,
  Loader,
  Paper,
  ScrollArea,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import {
  ENTITY_KIND_LABEL,
  ENTITY_STATUS_LABEL,
  KIND_COLOR,
  TRUST_TYPE_LABEL,
} from "../common/labels";
import { useEntities } from "../entities/api";
import type { Entity } from "../ipc/bindings/Entity";

function rows(e: Entity): [string, string | null][] {
  return [
    ["Trust type", e.trustType ? TRUST_TYPE_LABEL[e.trustType] : null],
    ["Status", ENTITY_STATUS_LABEL[e.status]],
    ["Other name", e.otherName],
    ["Date of birth", e.dateOfBirth],
    ["Date of death", e.dateOfDeath],
    ["ACN", e.acn],
    ["ABN", e.abn],
    ["TFN", e.tfnMasked],
    ["Email", e.email],
    ["Phone", e.phone],
    ["Address", e.address],
    ["Postal address", e.postalAddress],
    ["Notes", e.notes],
  ];
}

/** Details of the entity whose node was clicked. */
export type PanelLink = { id: string; label: string; outgoing: boolean; other: string };

export function EntityDetailsPanel(props: {
  groupId: number;
  entityId: number;
  fallbackLabel: string;
  /** The selected node's relationships shown in the diagram. */
  links: PanelLink[];
  onClose: () => void;
}) {
  const entities = useEntities(props.groupId);
  const entity = entities.data?.find((e) => e.id === props.entityId);
  return (
    <Paper withBorder w={290} p="sm" data-testid="entity-panel" style={{ flexShrink: 0 }}>
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <Title order={5}>{entity?.name ?? props.fallbackLabel}</Title>
        <CloseButton onClick={props.onClose} aria-label="Close details" />
      </Group>
      {entities.isPending && <Loader size="sm" mt="sm" />}
      {entities.isError && (
        <Text size="sm" c="red">
          {entities.error.message}
        </Text>
      )}
      {entity && (
        <ScrollArea.Autosize mah="calc(100vh - 260px)">
          <Stack gap={6} mt="xs">
            <Badge color={KIND_COLOR[entity.kind]} variant="light">
              {ENTITY_KIND_LABEL[entity.kind]}
            </Badge>
            {rows(entity)
              .filter(([, v]) => v !== null && v !== "")
              .map(([k, v]) => (
                <div key={k}>
                  <Text size="xs" c="dimmed">
                    {k}
                  </Text>
                  <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
                    {v}
                  </Text>
                </div>
              ))}
            {props.links.length > 0 && (
              <div>
                <Text size="xs" c="dimmed">
                  Relationships in this diagram
                </Text>
                <Stack gap={2} mt={2} data-testid="entity-panel-links">
                  {props.links.map((l) => (
                    <Text size="sm" key={l.id}>
                      {l.outgoing ? `${l.label} of ${l.other}` : `${l.other}: ${l.label}`}
                    </Text>
                  ))}
                </Stack>
              </div>
            )}
          </Stack>
        </ScrollArea.Autosize>
      )}
    </Paper>
  );
}
