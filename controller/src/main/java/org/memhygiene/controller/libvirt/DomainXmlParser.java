package org.memhygiene.controller.libvirt;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.PostureLevel;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Parses domain XML (https://libvirt.org/formatdomain.html) into a {@link DomainXml}. The XML is
 * guest-influenced (metadata, names), so DOCTYPEs, external entities and XInclude are refused: a
 * document with a DOCTYPE is malformed here, never resolved.
 */
public final class DomainXmlParser {
    private final DocumentBuilderFactory factory;

    public DomainXmlParser() {
        factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setXIncludeAware(false);
        factory.setExpandEntityReferences(false);
        try {
            // https://cheatsheetseries.owasp.org/cheatsheets/XML_External_Entity_Prevention_Cheat_Sheet.html#java
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature("http://xml.org/sax/features/external-general-entities", false);
            factory.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a feature needed to parse untrusted XML", e);
        }
        factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
    }

    /**
     * @param domain the domain the XML came from, for the error message
     * @throws DomainXmlException when the text is not well-formed domain XML
     */
    public DomainXml parse(String domain, String xml) {
        Element root = parseDocument(domain, xml).getDocumentElement();
        if (!"domain".equals(root.getLocalName())) {
            throw new DomainXmlException(domain, "root element is <" + root.getTagName() + ">, not <domain>", null);
        }
        String name =
                child(root, "name").map(Node::getTextContent).map(String::strip).orElse(domain);
        Optional<Element> devices = child(root, "devices");
        return new DomainXml(
                name,
                memoryBacking(root),
                devices.flatMap(DomainXmlParser::balloon),
                devices.flatMap(d -> channel(d, DomainXml.AGENT_CHANNEL))
                        .map(c -> new DomainXml.AgentChannel(socketPath(c))),
                devices.flatMap(d -> channel(d, DomainXml.GUEST_AGENT_CHANNEL)).isPresent(),
                posture(root));
    }

    private Document parseDocument(String domain, String xml) {
        try {
            DocumentBuilder builder = factory.newDocumentBuilder();
            // The default handler prints "[Fatal Error]" to stderr before throwing; the exception says it all.
            builder.setErrorHandler(new DefaultHandler());
            return builder.parse(new InputSource(new StringReader(xml)));
        } catch (SAXException e) {
            throw new DomainXmlException(domain, e.getMessage(), e);
        } catch (ParserConfigurationException | IOException e) {
            throw new DomainXmlException(domain, e.toString(), e);
        }
    }

    private static DomainXml.MemoryBacking memoryBacking(Element root) {
        Optional<Element> backing = child(root, "memoryBacking");
        return new DomainXml.MemoryBacking(
                backing.flatMap(b -> child(b, "nosharepages")).isPresent(),
                backing.flatMap(b -> child(b, "locked")).isPresent(),
                backing.flatMap(b -> child(b, "hugepages")).isPresent());
    }

    private static Optional<DomainXml.Balloon> balloon(Element devices) {
        return child(devices, "memballoon")
                .filter(b -> !"none".equals(b.getAttribute("model")))
                .map(b -> new DomainXml.Balloon(
                        b.getAttribute("model"),
                        "on".equals(b.getAttribute("freePageReporting")),
                        child(b, "stats")
                                .map(s -> s.getAttribute("period"))
                                .map(DomainXmlParser::seconds)
                                .orElse(OptionalInt.empty())));
    }

    private static OptionalInt seconds(String text) {
        try {
            int value = Integer.parseInt(text);
            return value >= 0 ? OptionalInt.of(value) : OptionalInt.empty();
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /** The {@code <channel>} whose {@code <target type='virtio' name='...'>} is {@code targetName}. */
    private static Optional<Element> channel(Element devices, String targetName) {
        for (Element channel : children(devices, "channel")) {
            Optional<Element> target = child(channel, "target");
            if (target.isPresent()
                    && "virtio".equals(target.get().getAttribute("type"))
                    && targetName.equals(target.get().getAttribute("name"))) {
                return Optional.of(channel);
            }
        }
        return Optional.empty();
    }

    private static Optional<Path> socketPath(Element channel) {
        if (!"unix".equals(channel.getAttribute("type"))) {
            return Optional.empty();
        }
        return child(channel, "source")
                .map(s -> s.getAttribute("path"))
                .filter(p -> !p.isEmpty())
                .map(Path::of);
    }

    private static Optional<PostureLevel> posture(Element root) {
        return child(root, "metadata")
                .map(m -> m.getElementsByTagNameNS(DomainXml.POSTURE_NAMESPACE, "posture"))
                .filter(list -> list.getLength() > 0)
                .flatMap(list -> PostureLevel.parse(((Element) list.item(0)).getAttribute("level")));
    }

    private static Optional<Element> child(Element parent, String name) {
        return children(parent, name).stream().findFirst();
    }

    /** Direct children in libvirt's (empty) namespace with this local name. */
    private static List<Element> children(Element parent, String name) {
        List<Element> found = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e && e.getNamespaceURI() == null && name.equals(e.getLocalName())) {
                found.add(e);
            }
        }
        return found;
    }
}
