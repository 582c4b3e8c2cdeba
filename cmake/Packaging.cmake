# Installation (FHS, freedesktop.org) and the Debian package (CPack), as a distribution
# packager would lay it out:
#   bin/modlab, bin/modlab-cli
#   share/applications/org.modularitylab.ModularityLab.desktop
#   share/metainfo/org.modularitylab.ModularityLab.metainfo.xml
#   share/icons/hicolor/{scalable,NxN}/apps/org.modularitylab.ModularityLab.{svg,png}
#   share/man/man1/modlab.1.gz, modlab-cli.1.gz (from the programs' own --help)
#   share/bash-completion/completions/modlab-cli (from modlab-cli's own --help)
#   share/doc/modularity-lab/copyright, changelog.gz
# Presets and guides are compiled into the programs: nothing is read from the build tree.
include(GNUInstallDirs)
set(MODLAB_APP_ID org.modularitylab.ModularityLab)
set(linux ${PROJECT_SOURCE_DIR}/packaging/linux)
set(generated ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${generated})

install(FILES ${linux}/${MODLAB_APP_ID}.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${linux}/${MODLAB_APP_ID}.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
install(FILES ${linux}/icons/modularity-lab.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps
        RENAME ${MODLAB_APP_ID}.svg)
foreach(size 16 24 32 48 64 128 256)
  install(FILES ${linux}/icons/modularity-lab-${size}.png
          DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps RENAME ${MODLAB_APP_ID}.png)
endforeach()

# Man pages and completion, generated from the built programs' --help (they cannot drift).
set(SOURCE_DATE_EPOCH 1796040000)  # the release date, for reproducible pages
add_custom_command(OUTPUT ${generated}/modlab-cli.1.gz
  COMMAND ${CMAKE_COMMAND} -E env SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH}
          ${PROJECT_SOURCE_DIR}/packaging/make-manpage modlab-cli $<TARGET_FILE:modlab-cli>
          "train, evaluate, benchmark and sweep the paper's model families without a display" > ${generated}/modlab-cli.1
  COMMAND gzip -9nf ${generated}/modlab-cli.1
  DEPENDS modlab-cli ${PROJECT_SOURCE_DIR}/packaging/make-manpage VERBATIM)
add_custom_command(OUTPUT ${generated}/modlab-cli.bash
  COMMAND ${PROJECT_SOURCE_DIR}/packaging/make-bash-completion $<TARGET_FILE:modlab-cli> > ${generated}/modlab-cli.bash
  DEPENDS modlab-cli ${PROJECT_SOURCE_DIR}/packaging/make-bash-completion VERBATIM)
set(MODLAB_GENERATED_DOCS ${generated}/modlab-cli.1.gz ${generated}/modlab-cli.bash)
if(MODLAB_BUILD_GUI)
  add_custom_command(OUTPUT ${generated}/modlab.1.gz
    COMMAND ${CMAKE_COMMAND} -E env SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH}
            ${PROJECT_SOURCE_DIR}/packaging/make-manpage modlab $<TARGET_FILE:modlab>
            "train the paper's modular and monolithic networks live and watch whether they specialise" > ${generated}/modlab.1
    COMMAND gzip -9nf ${generated}/modlab.1
    DEPENDS modlab ${PROJECT_SOURCE_DIR}/packaging/make-manpage VERBATIM)
  list(APPEND MODLAB_GENERATED_DOCS ${generated}/modlab.1.gz)
  install(FILES ${generated}/modlab.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
add_custom_target(modlab_docs ALL DEPENDS ${MODLAB_GENERATED_DOCS})
install(FILES ${generated}/modlab-cli.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${generated}/modlab-cli.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME modlab-cli)

# Debian's documentation: the copyright file and a compressed changelog.
add_custom_command(OUTPUT ${generated}/changelog.gz
  COMMAND gzip -9nc ${linux}/changelog > ${generated}/changelog.gz
  DEPENDS ${linux}/changelog VERBATIM)
add_custom_target(modlab_changelog ALL DEPENDS ${generated}/changelog.gz)
install(FILES ${linux}/copyright ${generated}/changelog.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/modularity-lab)

# The .deb: Depends from the binaries (dpkg-shlibdeps) plus what they load at run time.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME modularity-lab)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The Modularity Lab developers")
set(CPACK_PACKAGE_CONTACT "The Modularity Lab developers <maintainers@modularitylab.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "see, live, whether modular neural networks really specialise")
set(CPACK_PACKAGE_DESCRIPTION
  "Modularity Lab implements the NeurIPS 2022 paper Is a Modular Architecture
Enough? (Mittal, Bengio, Lajoie): rule tasks with a known modular structure,
the Monolithic, Modular, Modular-op and GT-Modular model families, and the
paper's metrics of collapse and specialisation. A Qt desktop application
trains them side by side and plots losses, activation heatmaps and metrics
live; modlab-cli runs the same engine headless, for sweeps on a workstation
or a Slurm cluster.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://arxiv.org/abs/2206.02713")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Without OpenBLAS LibTorch runs on the reference BLAS (about 8x slower); without a font
# Qt draws blank labels.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-pthread, fonts-dejavu-core")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
