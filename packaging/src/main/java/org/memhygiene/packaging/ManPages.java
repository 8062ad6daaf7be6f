package org.memhygiene.packaging;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.asciidoctor.Asciidoctor;
import org.asciidoctor.Attributes;
import org.asciidoctor.Options;
import org.asciidoctor.SafeMode;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Man pages from the picocli command model: one page per command and subcommand (memhygiene(1),
 * memhygiene-ksm-status(1), ...), as picocli-codegen's ManPageGenerator writes them in AsciiDoc, converted
 * to roff by Asciidoctor's manpage backend and gzipped for /usr/share/man/manN. Each page gets what the
 * command model does not carry: the section, the exit codes every memhygiene command shares (CliErrors),
 * the files the package installs for it, and SEE ALSO with its parent and subcommands.
 */
final class ManPages {
    private final Asciidoctor asciidoctor;
    private final String source;
    private final String date;

    /** {@code source}: the footer's "memhygiene 0.1.0"; {@code date}: the build's date, YYYY-MM-DD (reproducible). */
    ManPages(Asciidoctor asciidoctor, String source, String date) {
        this.asciidoctor = asciidoctor;
        this.source = source;
        this.date = date;
    }

    /**
     * Writes {@code root}'s page and one per subcommand (not picocli's help command, nor hidden ones) to
     * {@code manDir} as NAME.SECTION.gz; {@code files}: the FILES section of the root page (path, what it is).
     * Returns the page names written.
     */
    List<String> write(CommandLine root, int section, Map<String, String> files, Path manDir) throws IOException {
        List<String> written = new ArrayList<>();
        for (CommandSpec spec : pages(root.getCommandSpec())) {
            String name = spec.qualifiedName("-");
            String adoc = asciidoc(spec, section, spec.parent() == null ? files : Map.of());
            String roff = asciidoctor.convert(
                    adoc,
                    Options.builder()
                            .backend("manpage")
                            .standalone(true)
                            .safe(SafeMode.SECURE)
                            .attributes(Attributes.builder()
                                    .attribute("mansource", source)
                                    .attribute("manmanual", "memhygiene manual")
                                    .attribute("docdate", date)
                                    .attribute("revdate", date)
                                    .build())
                            .build());
            Gzip.write(manDir.resolve(name + "." + section + ".gz"), roff);
            written.add(name + "(" + section + ")");
        }
        return written;
    }

    /** The command and its subcommands, depth first, as the man pages go. */
    static List<CommandSpec> pages(CommandSpec spec) {
        List<CommandSpec> all = new ArrayList<>();
        all.add(spec);
        for (CommandLine sub : spec.subcommands().values()) {
            CommandSpec subSpec = sub.getCommandSpec();
            if (subSpec.usageMessage().hidden()
                    || subSpec.userObject() instanceof CommandLine.HelpCommand
                    || all.contains(subSpec)) {
                continue; // picocli's "help" repeats --help; an alias maps to the same spec
            }
            all.addAll(pages(subSpec));
        }
        return all;
    }

    static String asciidoc(CommandSpec spec, int section, Map<String, String> files) {
        StringWriter out = new StringWriter();
        try (PrintWriter pw = new PrintWriter(out)) {
            ManPageGenerator.writeSingleManPage(pw, spec);
        }
        String name = spec.qualifiedName("-");
        String title = "= " + name + "(1)";
        String page = out.toString();
        if (!page.contains(title)) {
            throw new IllegalStateException("picocli's man page of " + name + " has no title line '" + title + "'");
        }
        StringBuilder adoc = new StringBuilder(page.replace(title, "= " + name + "(" + section + ")"));
        adoc.append("\n== Exit status\n\n")
                .append("*0*:: Success.\n")
                .append(
                        "*1*:: A runtime error; the message says what failed (not root, no KSM, the kernel refused a value, ...).\n")
                .append("*2*:: A usage error; the message names the bad option or value.\n");
        if (!files.isEmpty()) {
            adoc.append("\n== Files\n\n");
            files.forEach((path, what) ->
                    adoc.append('_').append(path).append("_::\n  ").append(what).append('\n'));
        }
        List<String> related = new ArrayList<>();
        if (spec.parent() != null) {
            related.add(spec.parent().qualifiedName("-") + "(" + section + ")");
        }
        for (CommandSpec sub : pages(spec)) {
            if (sub != spec && sub.parent() == spec) {
                related.add(sub.qualifiedName("-") + "(" + section + ")");
            }
        }
        if (!related.isEmpty()) {
            adoc.append("\n== See also\n\n")
                    .append(String.join(
                            ", ", related.stream().map(ManPages::reference).toList()))
                    .append('\n');
        }
        return adoc.toString();
    }

    /** NAME(N) as a man page reference: the name in bold. */
    private static String reference(String page) {
        int paren = page.indexOf('(');
        return "*" + page.substring(0, paren) + "*" + page.substring(paren);
    }
}
