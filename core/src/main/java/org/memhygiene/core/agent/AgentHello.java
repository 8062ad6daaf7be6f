package org.memhygiene.core.agent;

import java.util.List;

/**
 * The reply to hello (docs/PROTOCOL.md).
 *
 * @param protocolVersion the protocol version the agent speaks
 * @param agentVersion    the agent's build version
 * @param pageSizeBytes   the guest's page size
 * @param capabilities    the commands the agent answers
 */
public record AgentHello(int protocolVersion, String agentVersion, long pageSizeBytes, List<String> capabilities) {}
