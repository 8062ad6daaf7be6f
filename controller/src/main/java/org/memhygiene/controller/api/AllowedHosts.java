package org.memhygiene.controller.api;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The names a state-changing request may carry in its {@code Host} and {@code Origin} headers (docs/API.md
 * "Security"), against cross-site requests and DNS rebinding: a web page the admin visits can make a
 * browser send requests to 127.0.0.1, but only under the page's own origin, or under a name of the
 * attacker's that resolves to 127.0.0.1 (https://en.wikipedia.org/wiki/DNS_rebinding). Allowed: loopback
 * names and addresses, the configured bind address and, when that is a wildcard (0.0.0.0, ::), this
 * machine's own addresses and host name. IP literals are compared as addresses, without DNS.
 */
final class AllowedHosts {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final String bind;
    private final Optional<InetAddress> bindAddress;
    private final boolean wildcard;
    private final Optional<String> machineName;

    AllowedHosts(String bind) {
        this.bind = bind.toLowerCase(Locale.ROOT);
        this.bindAddress = literal(this.bind);
        this.wildcard = bindAddress.map(InetAddress::isAnyLocalAddress).orElse(false);
        this.machineName = wildcard ? machineName() : Optional.empty();
    }

    private static Optional<String> machineName() {
        try {
            return Optional.of(InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT));
        } catch (UnknownHostException e) {
            return Optional.empty(); // then only addresses are allowed besides loopback
        }
    }

    /** Whether a Host header ("name", "name:port", "[v6]:port") names this API. */
    boolean allowsHostHeader(String header) {
        if (header == null || header.isBlank()) {
            return false;
        }
        String host = header.strip().toLowerCase(Locale.ROOT);
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end > 0 && allows(host.substring(1, end));
        }
        int colon = host.indexOf(':');
        return allows(colon < 0 ? host : host.substring(0, colon));
    }

    /** Whether an Origin header ("http://name:port") names this API; "null" and anything unparsable do not. */
    boolean allowsOrigin(String origin) {
        try {
            URI uri = new URI(origin.strip());
            String scheme = uri.getScheme();
            String host = uri.getHost();
            return host != null
                    && ("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
                    && allows(
                            host.startsWith("[")
                                    ? host.substring(1, host.length() - 1)
                                    : host.toLowerCase(Locale.ROOT));
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private boolean allows(String host) {
        if (host.equals("localhost") || host.equals(bind)) {
            return true;
        }
        Optional<InetAddress> address = literal(host);
        if (address.isEmpty()) {
            return machineName.map(host::equals).orElse(false);
        }
        InetAddress a = address.get();
        if (a.isLoopbackAddress() || bindAddress.map(a::equals).orElse(false)) {
            return true;
        }
        try {
            return wildcard && NetworkInterface.getByInetAddress(a) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    /** {@code host} as an address if it is an IPv4 or IPv6 literal; never a DNS lookup. */
    private static Optional<InetAddress> literal(String host) {
        try {
            if (IPV4.matcher(host).matches()) {
                byte[] bytes = new byte[4];
                String[] parts = host.split("\\.");
                for (int i = 0; i < 4; i++) {
                    int part = Integer.parseInt(parts[i]);
                    if (part > 255) {
                        return Optional.empty();
                    }
                    bytes[i] = (byte) part;
                }
                return Optional.of(InetAddress.getByAddress(bytes));
            }
            // getByName parses a string with a colon as an IPv6 literal and refuses it if it is not one.
            return host.indexOf(':') >= 0 && host.matches("[0-9a-f:.]+")
                    ? Optional.of(InetAddress.getByName(host))
                    : Optional.empty();
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }
}
